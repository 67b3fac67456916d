"""On-disk cache of compiled shared objects, safe across processes.

An entry lives in ``<cache_dir>/c/<key[:2]>/<key>/`` and holds ``lib.so``, the
``source.c`` it was built from (for users to read) and ``meta.json`` (sha256 and
size of ``lib.so``, checked on every load from disk). Entries are built in a
temporary directory next to their final place and published with one atomic
``os.replace``, so a reader sees a whole entry or none. A file lock per key
makes concurrent builders of the same key wait for the one that builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Hashable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "CacheEntry",
    "cache_dir",
    "clear_cache",
    "file_lock",
    "get_or_build",
    "make_key",
    "memory",
    "stats",
    "symgraph_version",
]

SO_NAME = "lib.so"
SOURCE_NAME = "source.c"
META_NAME = "meta.json"
# A builder that holds the lock this long is stuck (a C compile takes seconds).
LOCK_TIMEOUT_S = 600.0

# Loaded libraries of this process, keyed by the caller: a second load of the
# same key returns the same object without touching the disk.
memory: dict[Hashable, object] = {}
# Counters for diagnostics and tests (per process).
stats = {"builds": 0, "disk_hits": 0, "repairs": 0}


def cache_dir() -> Path:
    """Return the root of symgraph's cache directory.

    ``$SYMGRAPH_CACHE_DIR`` if set (read on every call, so tests can point it
    at a temporary directory), else ``platformdirs.user_cache_dir("symgraph")``.
    Compiled code lives in its ``c/`` subdirectory.
    """
    env = os.environ.get("SYMGRAPH_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs  # here: a process that loads from the cache skips it

    return Path(platformdirs.user_cache_dir("symgraph"))


def native_dir() -> Path:
    """Return the directory holding compiled entries (``cache_dir() / "c"``)."""
    return cache_dir() / "c"


def clear_cache() -> None:
    """Delete every compiled entry on disk and forget the loaded ones.

    Other cached data (datasets) under ``cache_dir()`` is left alone. Libraries
    already loaded keep working: their files stay mapped until unloaded.
    """
    memory.clear()
    shutil.rmtree(native_dir(), ignore_errors=True)


@cache
def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("symgraph")
    except PackageNotFoundError:
        return "0+unknown"


def symgraph_version() -> str:
    """Return symgraph's version, for the cache key.

    Looked up in ``sys.modules`` rather than imported, because this module is
    itself imported while ``symgraph`` initialises.
    """
    found = getattr(sys.modules.get("symgraph"), "__version__", None)
    return str(found) if found else _installed_version()


def make_key(
    source: str, argv: Sequence[str], compiler_version: str, cpu_key: str
) -> str:
    """Return the sha256 hex key of one build.

    Parameters
    ----------
    source : str
        The C translation unit.
    argv : sequence of str
        The full compiler command line (paths relative to the build directory).
    compiler_version, cpu_key : str
        From the `Toolchain`; the symgraph version is added here.
    """
    blob = json.dumps(
        [source, list(argv), compiler_version, cpu_key, symgraph_version()]
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """The files of one cache entry (they exist once `get_or_build` returns)."""

    key: str
    path: Path

    @property
    def so_path(self) -> Path:
        return self.path / SO_NAME

    @property
    def source_path(self) -> Path:
        return self.path / SOURCE_NAME

    @property
    def meta_path(self) -> Path:
        return self.path / META_NAME


def entry_for(key: str) -> CacheEntry:
    """Return where the entry of `key` lives (whether built or not)."""
    return CacheEntry(key, native_dir() / key[:2] / key)


def failed_dir(key: str) -> Path:
    """Return where the sources of a failed build of `key` are kept."""
    return native_dir() / "failed" / key


def _check(entry: CacheEntry) -> str | None:
    """Return None if `entry` is whole, else why not ("missing" if absent)."""
    if not entry.path.is_dir():
        return "missing"
    try:
        meta = json.loads(entry.meta_path.read_text())
        data = entry.so_path.read_bytes()
    except (OSError, ValueError) as exc:
        return f"unreadable ({exc.__class__.__name__}: {exc})"
    if len(data) != meta.get("size"):
        return f"{SO_NAME} has {len(data)} bytes, expected {meta.get('size')}"
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        return f"{SO_NAME} does not match its recorded sha256"
    return None


def _discard(path: Path) -> None:
    # Rename first (atomic), so a reader never sees a half-deleted entry.
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _keep_failed(tmp: Path, key: str) -> None:
    dest = failed_dir(key)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dest, ignore_errors=True)
    try:
        os.replace(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


LOCK_POLL_S = 0.02


@contextmanager
def file_lock(path: Path, timeout: float):
    """Hold an exclusive lock on the file `path` (created if need be).

    ``flock`` where there is one: filelock, used elsewhere, costs ~8 ms to
    import, on the way to the compiler of a cold build.

    Raises
    ------
    TimeoutError
        If another holder keeps it longer than `timeout` seconds.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        from filelock import FileLock

        with FileLock(str(path), timeout=timeout):
            yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"symgraph: {path} is locked") from None
                time.sleep(LOCK_POLL_S)
        yield
    finally:
        os.close(fd)  # releases the lock


def get_or_build(key: str, source: str, build: Callable[[Path], None]) -> CacheEntry:
    """Return the verified cache entry of `key`, building it if needed.

    Parameters
    ----------
    key : str
        From `make_key`.
    source : str
        Written to ``source.c`` in the build directory before `build` runs.
    build : callable
        ``build(workdir)`` must produce ``workdir / "lib.so"`` from
        ``workdir / "source.c"`` or raise. On an exception the work directory
        is kept in ``failed_dir(key)`` and the exception propagates.

    A corrupt entry (wrong size or sha256, missing files) is deleted and
    rebuilt, with a warning. Only one process builds a given key at a time;
    the others wait on a file lock and then load what it published.
    """
    entry = entry_for(key)
    if _check(entry) is None:
        stats["disk_hits"] += 1
        return entry
    parent = entry.path.parent
    parent.mkdir(parents=True, exist_ok=True)
    with file_lock(parent / f"{key}.lock", LOCK_TIMEOUT_S):
        problem = _check(entry)
        if problem is None:  # another process built it while we waited
            stats["disk_hits"] += 1
            return entry
        if problem != "missing":
            warnings.warn(
                f"symgraph: cache entry {entry.path} is corrupt ({problem}); "
                "deleting and rebuilding it",
                RuntimeWarning,
                stacklevel=3,
            )
            stats["repairs"] += 1
            _discard(entry.path)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:16]}-", dir=parent))
        try:
            (tmp / SOURCE_NAME).write_text(source)
            build(tmp)
            data = (tmp / SO_NAME).read_bytes()
            meta = {
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "created": time.time(),
                "symgraph": symgraph_version(),
            }
            (tmp / META_NAME).write_text(json.dumps(meta, indent=1))
            os.replace(tmp, entry.path)
        except Exception:
            _keep_failed(tmp, key)
            raise
        except BaseException:  # interrupted: nothing worth keeping
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    stats["builds"] += 1
    return entry
