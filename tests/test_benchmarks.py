"""benchmarks/bench_backends.py runs and reports (NumPy and symgraph only, fast).

The peers are not installed for the tests; the script must skip what it
cannot import and still print its report. symgraph's results must match
NumPy's on every workload it runs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_backends.py"


def test_bench_backends_smoke(tmp_path):
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    out = tmp_path / "bench.json"
    workloads = "add_scalar,add_vec10,fused_1e6,softmax,matmul,mlp_step,mlp_compile"
    argv = ["--libs", "numpy,symgraph", "--workloads", workloads, "--rounds", "1"]
    argv += ["--min-time", "0.001", "--threads", "1", "--json", str(out)]
    argv += ["--compile-runs", "2"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout
    for heading in ("## Summary", "## symgraph against its targets", "## Details"):
        assert heading in report
    assert "every library held to 1 threads" in report
    assert "MISMATCH" not in report, report

    data = json.loads(out.read_text())
    assert "symgraph" in data["labels"], proc.stderr  # it must at least import
    assert set(data["workloads"]) == set(workloads.split(",")) - {"mlp_compile"}
    for key, results in data["workloads"].items():
        by_lib = {r["lib"]: r for r in results}
        assert by_lib["numpy"]["error"] is None and by_lib["numpy"]["median"] > 0
        sg = by_lib["symgraph"]
        if sg["error"] is None:
            assert sg["max_rel_err"] < 1e-3, (key, sg)
            assert sg["median"] > 0
    assert data["copy_times"]["fused_1e6"] > 0
    assert set(data["compile"]) == {"symgraph"}
    assert set(data["compile"]["symgraph"]) == {"cold", "warm"}
    assert len(data["compile"]["symgraph"]["cold"]["runs_s"]) == 2
    assert "Medians of 2 runs" in report
