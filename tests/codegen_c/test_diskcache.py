"""The disk cache on its own, with a fake builder (no compiler needed)."""

import json
import os

import pytest

from symgraph.codegen_c import diskcache


@pytest.fixture(autouse=True)
def _empty_cache(cache):  # every test here starts from one (conftest)
    return cache


def fake_build(payload=b"\x7fELF fake shared object"):
    calls = []

    def build(workdir):
        calls.append(workdir)
        assert (workdir / "source.c").read_text() == "int f;"
        (workdir / "lib.so").write_bytes(payload)

    return build, calls


def test_cache_dir_read_at_call_time(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert diskcache.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("SYMGRAPH_CACHE_DIR")
    assert diskcache.cache_dir().name == "symgraph"


def test_builds_once_then_hits(cache):
    build, calls = fake_build()
    first = diskcache.get_or_build("ab" * 32, "int f;", build)
    second = diskcache.get_or_build("ab" * 32, "int f;", build)
    assert first == second and len(calls) == 1
    assert diskcache.stats == {"builds": 1, "disk_hits": 1, "repairs": 0}
    assert first.path.parent.parent == cache / "c"
    assert first.source_path.read_text() == "int f;"
    meta = json.loads(first.meta_path.read_text())
    assert meta["size"] == first.so_path.stat().st_size
    # Nothing left behind but the entry and its lock.
    assert sorted(p.name for p in first.path.parent.iterdir()) == [
        first.key,
        first.key + ".lock",
    ]


@pytest.mark.parametrize("damage", ["truncate", "flip", "drop_meta", "drop_so"])
def test_corrupt_entry_is_rebuilt(damage):
    build, calls = fake_build()
    entry = diskcache.get_or_build("cd" * 32, "int f;", build)
    data = entry.so_path.read_bytes()
    if damage == "truncate":
        entry.so_path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        entry.so_path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    elif damage == "drop_meta":
        entry.meta_path.unlink()
    else:
        entry.so_path.unlink()
    with pytest.warns(RuntimeWarning, match="corrupt"):
        again = diskcache.get_or_build("cd" * 32, "int f;", build)
    assert again.so_path.read_bytes() == data and len(calls) == 2
    assert diskcache.stats["repairs"] == 1


def test_failed_build_keeps_source_and_publishes_nothing():
    def broken(workdir):
        raise ValueError("compiler said no")

    key = "ef" * 32
    with pytest.raises(ValueError, match="said no"):
        diskcache.get_or_build(key, "int f;", broken)
    assert (diskcache.failed_dir(key) / "source.c").read_text() == "int f;"
    assert not diskcache.entry_for(key).path.exists()
    assert diskcache.stats["builds"] == 0
    # The next attempt builds normally.
    build, _ = fake_build()
    assert diskcache.get_or_build(key, "int f;", build).so_path.exists()


def test_key_depends_on_every_part():
    base = ("int f;", ["cc", "-O3"], "gcc 12", "x86_64:avx2")
    key = diskcache.make_key(*base)
    assert len(key) == 64 and key == diskcache.make_key(*base)
    variants = [
        ("int g;", ["cc", "-O3"], "gcc 12", "x86_64:avx2"),
        ("int f;", ["cc", "-O2"], "gcc 12", "x86_64:avx2"),
        ("int f;", ["cc", "-O3"], "gcc 13", "x86_64:avx2"),
        ("int f;", ["cc", "-O3"], "gcc 12", "x86_64:avx512f"),
    ]
    assert len({key, *(diskcache.make_key(*v) for v in variants)}) == 5


def test_key_depends_on_symgraph_version(monkeypatch):
    base = ("int f;", ["cc"], "gcc", "cpu")
    before = diskcache.make_key(*base)
    monkeypatch.setattr(diskcache, "symgraph_version", lambda: "9.9.9")
    assert diskcache.make_key(*base) != before


def test_symgraph_version_is_a_string():
    assert isinstance(diskcache.symgraph_version(), str)
    assert diskcache.symgraph_version()


def test_clear_cache_keeps_other_data(cache):
    build, _ = fake_build()
    entry = diskcache.get_or_build("aa" * 32, "int f;", build)
    (cache / "datasets").mkdir()
    diskcache.memory["x"] = object()
    diskcache.clear_cache()
    assert not entry.path.exists() and (cache / "datasets").is_dir()
    assert diskcache.memory == {}
    assert not os.path.exists(cache / "c")


def test_file_lock_excludes_other_holders_until_released(tmp_path):
    import threading

    path = tmp_path / "k.lock"
    held, release, order = threading.Event(), threading.Event(), []

    def holder():
        with diskcache.file_lock(path, timeout=5):
            order.append("first")
            held.set()
            release.wait(5)

    worker = threading.Thread(target=holder)
    worker.start()
    held.wait(5)
    with pytest.raises(TimeoutError, match="locked"):
        with diskcache.file_lock(path, timeout=0.1):
            order.append("too early")
    release.set()
    with diskcache.file_lock(path, timeout=5):
        order.append("second")
    worker.join()
    assert order == ["first", "second"]
