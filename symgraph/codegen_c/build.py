"""Compile one C translation unit into a shared library and load it with cffi.

ABI mode (``cc -shared`` then ``ffi.dlopen``) rather than cffi's API mode: it
skips building a Python extension, about 5x faster to a loaded library
(DESIGN.md). Builds go through the disk cache (`diskcache`) and an in-memory
cache on top, so a library is compiled once per machine and loaded once per
process.

While the compiler runs, a thread parses the cdef (cffi uses pycparser:
~15 ms, most of it importing pycparser). The thread starts once the compiler
has, as it holds the GIL that starting the compiler needs. OpenBLAS loads
after the compiler: its threads spin once loaded and would slow it down. The
parsed declarations are kept beside the library (``ffi.txt``, cffi's own
"out-of-line" form), so that a process loading it from the disk cache builds
its ``FFI`` without parsing.
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import threading
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

FFI_NAME = "ffi.txt"  # the parsed cdef, beside lib.so in a cache entry
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

    ffi: object  # cffi.FFI, or the same API rebuilt from ffi.txt
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


def _compile(argv: list[str], source: str, workdir: Path, meanwhile=None) -> None:
    """Run the compiler in `workdir`; ``meanwhile()`` once it has started."""
    start = time.perf_counter()
    with subprocess.Popen(
        argv,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    ) as proc:
        try:
            if meanwhile is not None:
                meanwhile()
            _, stderr = proc.communicate()
        except BaseException:  # e.g. KeyboardInterrupt: no compiler left behind
            proc.kill()
            raise
    if proc.returncode != 0:
        raise CompileError(argv, proc.returncode, stderr, source)
    import logging  # here: a process that loads from the cache skips it

    elapsed = time.perf_counter() - start
    logging.getLogger(__name__).debug("compiled %s in %.3f s", workdir, elapsed)


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
    return _build(argv, key, source)


def _build(argv, key, source, meanwhile=None, also=None) -> diskcache.CacheEntry:
    """The entry of `key`, compiled if needed: then ``meanwhile()`` runs while
    the compiler does, and ``also(workdir)`` after it, to add files."""

    def run(workdir: Path) -> None:
        _compile(argv, source, workdir, meanwhile)
        if also is not None:
            also(workdir)

    try:
        return diskcache.get_or_build(key, source, run)
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
    argv, key = _plan(source, extra_cflags, link_blas)
    ffi_path = diskcache.entry_for(key).path / FFI_NAME
    jobs: list[Job] = []

    def meanwhile() -> None:  # not before: the compiler would start later
        jobs.append(Job(_load_ffi, ffi_path, cdef, name="symgraph-cdef"))

    def also(workdir: Path) -> None:
        _save_ffi(workdir, jobs[0].result)

    entry = _build(argv, key, source, meanwhile, also)
    ffi, record = jobs[0].result() if jobs else _load_ffi(ffi_path, cdef)
    if record is not None and not (entry.path / FFI_NAME).exists():
        _save_ffi(entry.path, lambda: (ffi, record))  # an entry built without it
    if link_blas:
        blas.prepare_blas()  # before the loader pulls OpenBLAS in
    # Never unloaded: arrays that C allocated and function states free their
    # memory through the library, and at interpreter exit they may be
    # collected after it (the in-memory cache keeps it loaded until then).
    lib = ffi.dlopen(str(entry.so_path), ffi.RTLD_NOW | ffi.RTLD_NODELETE)
    result = CompiledLibrary(
        ffi, lib, entry.so_path, source, entry.source_path, entry.key
    )
    diskcache.memory[mkey] = result
    return result


# ------------------------------------------------------------ loading
class Job:
    """``fn(*args)`` run in a new thread; `result` waits for its outcome.

    Not a daemon thread: an interpreter that exits meanwhile waits for it.
    """

    def __init__(self, fn, *args, name: str = "symgraph") -> None:
        self._outcome: tuple = (False, RuntimeError("the job did not run"))
        self._thread = threading.Thread(target=self._run, args=(fn, args), name=name)
        self._thread.start()

    def _run(self, fn, args) -> None:
        try:
            self._outcome = (True, fn(*args))
        except BaseException as exc:  # raised again by result()
            self._outcome = (False, exc)

    def result(self):
        """The return value of ``fn``, or raise what it raised."""
        self._thread.join()
        ok, value = self._outcome
        if not ok:
            raise value
        return value


def _load_ffi(path: Path, cdef: str):
    """(FFI of `cdef`, its record for ``ffi.txt`` or None if read from there)."""
    ffi = _ffi_from_record(path, cdef)
    if ffi is not None:
        return ffi, None
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    return ffi, _ffi_record(ffi, cdef)


def _ffi_record(ffi, cdef: str) -> str | None:
    """`ffi` as text: the arguments of cffi's out-of-line constructor."""
    from cffi import recompiler

    try:
        text = io.StringIO()
        recompiler.make_py_source(ffi, "symgraph_unit", text)
        call = next(
            n for n in ast.walk(ast.parse(text.getvalue())) if isinstance(n, ast.Call)
        )
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except Exception:  # an unexpected cffi version: parse every time
        return None
    record = {"cdef": cdef, "cffi": cffi.__version__, "args": args, "kwargs": kwargs}
    return repr(record)


def _ffi_from_record(path: Path, cdef: str):
    """The FFI kept at `path` for exactly `cdef`, or None."""
    try:
        record = ast.literal_eval(path.read_text())
        if record["cdef"] != cdef or record["cffi"] != cffi.__version__:
            return None
        import _cffi_backend

        return _cffi_backend.FFI(*record["args"], **record["kwargs"])
    except Exception:  # missing, unreadable or from another cffi: parse instead
        return None


def _save_ffi(directory: Path, loaded) -> None:
    """Write the record of the parsed cdef (``loaded()``) into `directory`."""
    try:
        _, record = loaded()
    except Exception:  # compile_library raises it
        return
    if record is None:
        return
    tmp = directory / f".{FFI_NAME}.{os.getpid()}.{threading.get_ident()}"
    try:
        tmp.write_text(record)
        os.replace(tmp, directory / FFI_NAME)
    except OSError:  # a read-only cache only costs a parse
        pass
