"""Compile one C translation unit into a shared library and load it with cffi.

ABI mode (``cc -shared`` then ``ffi.dlopen``) rather than cffi's API mode: it
skips building a Python extension, about 5x faster to a loaded library
(DESIGN.md). Builds go through the disk cache (`diskcache`) and an in-memory
cache on top, so a library is compiled once per machine and loaded once per
process.
"""

from __future__ import annotations

import logging
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import cffi

from . import blas, diskcache
from .diskcache import SO_NAME, SOURCE_NAME
from .toolchain import NoCompilerError, get_toolchain

__all__ = [
    "CompileError",
    "CompiledLibrary",
    "build_shared_object",
    "compile_library",
]

log = logging.getLogger(__name__)

CONTEXT_LINES = 2  # source lines shown either side of an error line
MAX_ERROR_SITES = 5
_DIAGNOSTIC = re.compile(
    rf"^{re.escape(SOURCE_NAME)}:(\d+):(?:\d+:)? (?:fatal )?error:", re.M
)


class CompileError(RuntimeError):
    """The C compiler rejected generated source.

    Attributes: ``argv``, ``returncode``, ``stderr``, ``source`` and
    ``source_path`` (where the failed source was kept, or None).
    """

    def __init__(self, argv, returncode, stderr, source, source_path=None):
        super().__init__()
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        self.source = source
        self.source_path = source_path

    def __reduce__(self):  # picklable, e.g. across multiprocessing workers
        fields = (self.argv, self.returncode, self.stderr, self.source)
        return type(self), (*fields, self.source_path)

    def __str__(self) -> str:
        if self.returncode is None:  # no compiler ran
            return f"C compilation failed: {self.stderr}"
        parts = [
            f"C compilation failed (exit status {self.returncode}): "
            + " ".join(self.argv),
            f"failed source kept at: {self.source_path}",
            "compiler output:\n" + self.stderr.rstrip(),
        ]
        lines = self.source.splitlines()
        width = len(str(len(lines)))
        sites = sorted({int(n) for n in _DIAGNOSTIC.findall(self.stderr)})
        for n in sites[:MAX_ERROR_SITES]:
            lo, hi = max(1, n - CONTEXT_LINES), min(len(lines), n + CONTEXT_LINES)
            shown = [
                f"{'>' if i == n else ' '} {i:>{width}} | {lines[i - 1]}"
                for i in range(lo, hi + 1)
            ]
            parts.append(f"{SOURCE_NAME}:{n}:\n" + "\n".join(shown))
        return "\n\n".join(parts)


@dataclass(frozen=True, eq=False)
class CompiledLibrary:
    """A loaded library: call its functions through ``lib``.

    ``path`` is the ``.so`` in the cache, ``source_path`` the ``.c`` beside it
    (for users to read), ``key`` the cache key.
    """

    ffi: cffi.FFI
    lib: object
    path: Path
    source: str
    source_path: Path
    key: str


def _plan(
    source: str, extra_cflags: tuple[str, ...], link_blas: bool
) -> tuple[list[str], str]:
    """Return (compiler argv, cache key) of a build."""
    try:
        tc = get_toolchain()
    except NoCompilerError as exc:
        raise CompileError(["cc"], None, str(exc), source) from exc
    ldflags = blas.blas_link_flags() if link_blas else ()
    argv = tc.argv(SOURCE_NAME, SO_NAME, tuple(extra_cflags), ldflags)
    return argv, diskcache.make_key(source, argv, tc.version, tc.cpu_key)


def _compile(argv: list[str], source: str, workdir: Path) -> None:
    start = time.perf_counter()
    res = subprocess.run(
        argv, cwd=workdir, capture_output=True, text=True, errors="replace"
    )
    if res.returncode != 0:
        raise CompileError(argv, res.returncode, res.stderr, source)
    log.debug("compiled %s in %.3f s", workdir, time.perf_counter() - start)


def build_shared_object(
    source: str, *, extra_cflags=(), link_blas: bool = False
) -> diskcache.CacheEntry:
    """Compile `source` into the disk cache, without loading it.

    Returns the `diskcache.CacheEntry` (``so_path``, ``source_path``). Useful
    to check that generated code compiles (e.g. with ``-Wall -Werror``).

    Raises
    ------
    CompileError
        With the compiler's messages and the numbered lines around each error.
    """
    argv, key = _plan(source, tuple(extra_cflags), link_blas)
    try:
        return diskcache.get_or_build(
            key, source, lambda workdir: _compile(argv, source, workdir)
        )
    except CompileError as exc:
        exc.source_path = diskcache.failed_dir(key) / SOURCE_NAME
        raise


def compile_library(
    source: str, cdef: str, *, extra_cflags=(), link_blas: bool = False
) -> CompiledLibrary:
    """Compile C `source` (or find it cached) and load it through cffi.

    Parameters
    ----------
    source : str
        A complete C translation unit.
    cdef : str
        Declarations of the functions to call from Python (cffi ``cdef``).
    extra_cflags : sequence of str
        Appended to the toolchain's flags (part of the cache key).
    link_blas : bool
        Link OpenBLAS (declare it with `blas.CBLAS_HEADER` in `source`).

    Returns
    -------
    CompiledLibrary
        The same object for the same arguments within a process.

    Examples
    --------
    >>> lib = compile_library("int add(int a, int b) { return a + b; }",
    ...                       "int add(int, int);").lib
    >>> lib.add(2, 3)
    5
    """
    extra_cflags = tuple(extra_cflags)
    # Keyed on the inputs themselves: a hit costs one dict lookup, no hashing
    # of the source (str hashes are cached on the object).
    mkey = (source, cdef, extra_cflags, bool(link_blas))
    found = diskcache.memory.get(mkey)
    if found is not None:
        return found
    entry = build_shared_object(source, extra_cflags=extra_cflags, link_blas=link_blas)
    if link_blas:
        blas.prepare_blas()  # before the loader pulls OpenBLAS in
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    lib = ffi.dlopen(str(entry.so_path))
    result = CompiledLibrary(
        ffi, lib, entry.so_path, source, entry.source_path, entry.key
    )
    diskcache.memory[mkey] = result
    return result
