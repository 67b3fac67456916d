"""The demo (``python -m symgraph.demo``): trains, reports, writes its source.

Runs on whatever backend ``sg.function`` picks by default (C when a compiler
works), so it checks the main job end to end.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import symgraph.tensor as T

ROOT = Path(__file__).resolve().parents[1]


def _missing_api() -> list[str]:
    nnet = getattr(T, "nnet", None)
    wanted = {
        "T.dot": hasattr(T, "dot"),
        "T.mean": hasattr(T, "mean"),
        "T.nnet.softmax": hasattr(nnet, "softmax"),
        "T.nnet.categorical_crossentropy": hasattr(nnet, "categorical_crossentropy"),
    }
    return [name for name, present in wanted.items() if not present]


pytestmark = pytest.mark.skipif(
    bool(_missing_api()),
    reason=f"the demo needs {', '.join(_missing_api())} (not landed yet)",
)


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("demo") / "cache"


@pytest.fixture(autouse=True)
def cache(module_cache, monkeypatch):
    """One cache dir for this module's in-process runs: compiled code is reused."""
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(module_cache))
    return module_cache


def run_main(*argv):
    from symgraph.demo import main

    out = io.StringIO()
    result = main(["--no-progress", *argv], out=out)
    return result, out.getvalue()


def test_default_run_reaches_95_percent(cache):
    """The promise of the README: at least 95% test accuracy on the digits."""
    result, text = run_main()
    assert result["test_accuracy"] >= 0.95, text
    assert result["dataset"] == "digits" and len(result["epoch_times"]) == 20
    assert result["losses"][-1] < 0.5 * result["losses"][0]


def test_quick_run_reports_everything(cache):
    result, text = run_main("--epochs", "3", "--seed", "1")
    assert result["test_accuracy"] > 0.9, text
    assert result["backend"] in ("c", "python")
    path = result["source_path"]
    assert path.is_file() and cache in path.parents and path.read_text()
    if result["backend"] == "c":
        assert path.suffix == ".c"
    for needle in ("accuracy", "per epoch", f"backend  {result['backend']}", str(path)):
        assert needle in text


def test_same_seed_same_result():
    first, _ = run_main("--epochs", "1", "--seed", "5")
    second, _ = run_main("--epochs", "1", "--seed", "5")
    assert first["losses"] == second["losses"]
    assert first["test_accuracy"] == second["test_accuracy"]


def test_options_reach_the_model():
    argv = "--epochs 1 --hidden 16 --lr 0.05 --batch-size 100 --backend python"
    result, text = run_main(*argv.split())
    assert result["backend"] == "python"
    assert "64-16-10" in text and "lr=0.05" in text and "batch 100" in text
    assert result["args"]["batch_size"] == 100


@pytest.mark.parametrize(
    "argv",
    [["--epochs", "0"], ["--lr", "0"], ["--batch-size", "-1"], ["--dataset", "x"]],
)
def test_bad_options_exit(argv, capsys):
    from symgraph.demo import parse_args

    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2


def test_module_runs_in_a_fresh_process(tmp_path):
    """As on a fresh machine: a new process and an empty cache."""
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=str(tmp_path / "fresh-cache"))
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    proc = subprocess.run(
        [sys.executable, "-m", "symgraph.demo", "--epochs", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "accuracy" in proc.stdout and "per epoch" in proc.stdout
    assert "epoch 2/2" in proc.stderr  # the progress bar
    source_line = next(
        line for line in proc.stdout.splitlines() if line.startswith("source")
    )
    assert Path(source_line.split()[1]).is_file()


def test_mnist_when_available():
    folder = Path(os.environ.get("SYMGRAPH_DATA", "/nonexistent")) / "mnist"
    if not folder.is_dir():
        pytest.skip("SYMGRAPH_DATA does not point at a folder holding mnist/")
    # one epoch in 234 large steps: seconds, even on a busy 2-core machine
    argv = "--dataset mnist --epochs 1 --hidden 32 --batch-size 256 --lr 0.5"
    result, text = run_main(*argv.split())
    assert result["dataset"] == "mnist"
    assert result["test_accuracy"] > 0.9, text


def test_missing_mnist_is_a_message_not_a_traceback(tmp_path):
    env = dict(os.environ, SYMGRAPH_DATA=str(tmp_path / "nothing"))
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    proc = subprocess.run(
        [sys.executable, "-m", "symgraph.demo", "--dataset", "mnist"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 1
    assert "MNIST not found" in proc.stderr and "Traceback" not in proc.stderr
