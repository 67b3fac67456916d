#!/usr/bin/env python
"""symgraph side by side with NumPy, PyTensor, JAX and PyTorch, in one run.

Run: ``python benchmarks/bench_backends.py [--quick] [--threads 2] [--json out.json]``
(see benchmarks/README.md for the virtual environment with the peers). NumPy and
symgraph always run; PyTensor (its C/CVM linker), JAX (``jit``) and PyTorch
(eager, and ``torch.compile`` where it works offline) run when importable.

Every library is held to the same number of threads (``--threads``, default
2): the thread variables of OpenMP/MKL/OpenBLAS and ``XLA_FLAGS`` are set
before anything is imported, ``torch.set_num_threads`` is called, and the
process is pinned to that many CPUs when the machine has more.

Each timing is the median over interleaved rounds (every library once per
round, so background load hits them alike) of the mean time of a batch of
calls; results are checked against NumPy's before timing. Workloads:
call overhead (``x+1``), a fused elementwise expression, row softmax,
``sum(exp(x))``, a float32 matmul, an MLP training step with its SGD updates
inside the compiled function, and the time from graph construction to the
first result of that step in a new process, with an empty cache (cold) and a
filled one (warm).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

# benchmarks/ is on sys.path when this file runs as a script; workloads.py
# imports no numerical library at import time (threads are limited first).
from workloads import LIBS, PEERS, TITLES, WORKLOADS, load_lib, make_data

# --------------------------------------------------------------------- setup


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="threads per library")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer rounds, no torch.compile, cold/warm for "
        "symgraph and JAX only (about a minute)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--libs", help="comma-separated subset of: " + ", ".join(LIBS))
    parser.add_argument(
        "--workloads", help="comma-separated subset of: " + ", ".join(WORKLOADS)
    )
    parser.add_argument("--rounds", type=int, help="timing rounds (default 7, quick 3)")
    parser.add_argument(
        "--min-time",
        type=float,
        help="least seconds a timed batch of calls lasts (default 0.05, quick 0.01)",
    )
    parser.add_argument(
        "--compile-runs",
        type=int,
        help="cold/warm compile runs per library, medians reported (default 3, "
        "quick 1)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # lib name: cold/warm child
    return parser.parse_args(argv)


def limit_threads(n: int) -> None:
    """Hold every library to ``n`` threads; must run before numpy is imported."""
    for var in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    ):
        os.environ[var] = str(n)
    xla = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in xla:
        os.environ["XLA_FLAGS"] = (
            f"{xla} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={n}"
        ).strip()
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) > n:
        os.sched_setaffinity(0, cpus[:n])


# ------------------------------------------------------------------- timing


@dataclass
class Result:
    lib: str
    label: str
    times: list = field(default_factory=list)  # seconds per call, one per round
    error: str | None = None
    max_rel_err: float | None = None

    @property
    def median(self):
        return statistics.median(self.times) if self.times else None


SETTLE_S = 0.25  # idle time before each timed batch


def calibrate(fn, min_time: float) -> int:
    """Calls per batch so that a batch lasts at least ``min_time``."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or number >= 1 << 20:
            return number
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9) * 1.2))


def time_batch(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def compare(got, want, np) -> float:
    """Largest error relative to the reference's largest magnitude.

    (Elementwise relative error would flag float32 sums that merely
    accumulate in another order, in entries close to zero.)
    """
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise ValueError(f"shape {got.shape}, expected {want.shape}")
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-30)
    return float(np.max(np.abs(got - want), initial=0.0)) / scale


def run_workload(key, libs, np, rounds, min_time, log) -> tuple[list, float | None]:
    """Build, check and time ``key`` on every lib; returns results and copy time."""
    results, fns = [], {}
    reference = None
    for name, (builders, _, label) in libs.items():
        res = Result(name, label)
        results.append(res)
        data = make_data(key, np)
        try:
            fn = builders[key](data)
            first = fn()
            if name == "numpy":
                reference = first
            elif reference is not None:
                res.max_rel_err = compare(first, reference, np)
            fn()  # second call: JIT caches, buffer plans, allocations warmed
            fns[name] = (fn, calibrate(fn, min_time))
        except Exception as exc:  # report it and go on with the others
            res.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            log(f"  {label}: {res.error}")
    copy = None
    if key.startswith("fused"):  # memory bandwidth: a plain copy of the input
        src = make_data(key, np)["x"]
        dst = np.empty_like(src)
        copy = Result("copy", "np.copyto")
        fns["copy"] = (lambda: np.copyto(dst, src), None)
        fns["copy"] = (fns["copy"][0], calibrate(fns["copy"][0], min_time))
    order = results + ([copy] if copy else [])
    for r in range(rounds):
        # Each round starts one library later: the batch after a big one
        # (NumPy's temporaries) ran 10-20% slower whoever it was, so no
        # library may always follow the same one.
        for res in order[r % len(order) :] + order[: r % len(order)]:
            if res.lib in fns:
                # Let the previous library's idle worker threads (OpenBLAS,
                # OpenMP, Eigen) stop spinning: they would take a core from
                # this one's batch, and each library would be timed against
                # the one run before it.
                time.sleep(SETTLE_S)
                res.times.append(time_batch(*fns[res.lib]))
    return results, copy.median if copy else None


# -------------------------------------------------------- cold / warm compile

CHILD_LIBS = ("symgraph", "pytensor", "jax", "torch", "torch.compile")


def child_main(lib: str) -> None:
    """In a new process: build the MLP step, run it once, print the seconds."""
    start = time.perf_counter()
    import numpy as np

    if lib == "jax":  # its persistent cache stands in for a disk cache
        import jax

        jax.config.update("jax_compilation_cache_dir", os.environ["BENCH_CACHE"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    builders, _, label = load_lib(lib, np, probe=False)  # no compile before timing
    data = make_data("mlp_step", np)
    imported = time.perf_counter()
    float(np.asarray(builders["mlp_step"](data)()))
    done = time.perf_counter()
    if lib == "symgraph":
        label = load_lib(lib, np)[2]
    print(
        json.dumps(
            {
                "label": label,
                "import_s": imported - start,
                "first_result_s": done - imported,
            }
        )
    )


def cold_warm_once(lib: str, threads: int, log) -> dict:
    """One cold (empty cache) and one warm (cache filled) run, each a new
    process; {phase: the child's answer, or {"error": ...}}."""
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        env = dict(
            os.environ,
            BENCH_CACHE=cache,
            SYMGRAPH_CACHE_DIR=cache,
            PYTENSOR_FLAGS=f"compiledir={cache}",
            TORCHINDUCTOR_CACHE_DIR=cache,
        )
        out = {}
        for phase in ("cold", "warm"):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", lib, "--threads", str(threads)],
                capture_output=True,
                text=True,
                env=env,
                timeout=900,
            )
            lines = proc.stdout.strip().splitlines()
            if proc.returncode != 0 or not lines:
                err = (proc.stderr.strip().splitlines() or ["?"])[-1][:160]
                log(f"  {lib} {phase}: failed: {err}")
                out[phase] = {"error": err}
                continue
            out[phase] = json.loads(lines[-1])
    return out


def cold_warm(libs, threads: int, runs: int, log) -> dict:
    """{lib: {phase: medians over `runs`}}; each run takes every lib in turn,
    so that a slow spell of the machine does not fall on one library only."""
    samples = {lib: {"cold": [], "warm": []} for lib in libs}
    errors = {lib: {} for lib in libs}
    for r in range(runs):
        for lib in libs:
            log(f"MLP step cold/warm compile: {lib} (run {r + 1} of {runs}) ...")
            for phase, answer in cold_warm_once(lib, threads, log).items():
                if "error" in answer:
                    errors[lib][phase] = answer
                else:
                    samples[lib][phase].append(answer)
    out = {}
    for lib in libs:
        out[lib] = {}
        for phase, answers in samples[lib].items():
            if not answers:
                out[lib][phase] = errors[lib].get(phase, {"error": "no run"})
                continue
            firsts = [a["first_result_s"] for a in answers]
            out[lib][phase] = {
                "label": answers[0]["label"],
                "import_s": statistics.median(a["import_s"] for a in answers),
                "first_result_s": statistics.median(firsts),
                "runs_s": firsts,
            }
    return out


# ---------------------------------------------------------------- reporting
def fmt_time(seconds) -> str:
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def metric(key: str, seconds: float) -> str:
    if key.startswith("fused"):
        n = int(float(key.split("_")[1]))
        return f"{8 * n / seconds / 1e9:.1f} GB/s"
    if key == "matmul":
        return f"{2 * 1024**3 / seconds / 1e9:.0f} GFLOP/s"
    if key == "sumexp":
        return f"{4e7 / seconds / 1e9:.1f} GB/s"
    return ""


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "—"


def best_peer(results) -> Result | None:
    peers = [r for r in results if r.lib in PEERS and r.median is not None]
    return min(peers, key=lambda r: r.median) if peers else None


def workload_table(key, results, copy_time) -> list[str]:
    numpy_t = next((r.median for r in results if r.lib == "numpy"), None)
    peer = best_peer(results)
    lines = [
        f"### {TITLES[key]}",
        "",
        "| library | median | | vs NumPy | vs best peer | check |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        if r.error:
            lines.append(f"| {r.label} | failed | | | | {r.error} |")
            continue
        if r.lib == "numpy":
            check = "reference"
        elif r.max_rel_err is None:
            check = "unchecked"
        elif r.max_rel_err < 1e-3:
            check = "ok"
        else:
            check = f"MISMATCH (rel. err. {r.max_rel_err:.1e})"
        lines.append(
            f"| {r.label} | {fmt_time(r.median)} | {metric(key, r.median)} | "
            f"{ratio(r.median, numpy_t)} | "
            f"{ratio(r.median, peer.median) if peer else '—'} | {check} |"
        )
    if copy_time:
        lines.append(
            f"| np.copyto (bandwidth) | {fmt_time(copy_time)} | "
            f"{metric(key, copy_time)} | {ratio(copy_time, numpy_t)} | | |"
        )
    if peer:
        lines.append("")
        lines.append(f"Best peer: {peer.label}.")
    return lines + [""]


def compile_table(compile_results) -> list[str]:
    runs = max(
        (
            len(p.get("runs_s", []))
            for r in compile_results.values()
            for p in r.values()
        ),
        default=0,
    )
    how = (
        f"Medians of {runs} runs; cold's fastest and slowest in brackets."
        if runs > 1
        else "One run."
    )
    lines = [
        "### MLP step: graph construction to first result, new process",
        "",
        how + " Each run is a new process; cold starts with an empty cache.",
        "",
        "| library | cold (empty cache) | warm (cache filled) | import |",
        "| --- | ---: | ---: | ---: |",
    ]
    for lib, phases in compile_results.items():
        cells = []
        for phase in ("cold", "warm"):
            p = phases.get(phase, {})
            cells.append(
                fmt_time(p.get("first_result_s")) if "error" not in p else "failed"
            )
        spread = phases.get("cold", {}).get("runs_s", [])
        if len(spread) > 1:
            cells[0] += f" ({fmt_time(min(spread))}–{fmt_time(max(spread))})"
        label = next((p["label"] for p in phases.values() if "label" in p), lib)
        imp = phases.get("warm", {}).get("import_s")
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {fmt_time(imp)} |")
    return lines + [""]


def goals(all_results, compile_results, copy_times) -> list[str]:
    """symgraph against the targets of the C backend issue."""

    def med(key, lib):
        for r in all_results.get(key, []):
            if r.lib == lib:
                return r.median
        return None

    rows = []
    for key in ("add_scalar", "add_vec10"):
        t = med(key, "symgraph")
        if t is not None:
            rows.append((f"{TITLES[key]} <= 1 us", fmt_time(t), t <= 1e-6))
    if med("fused_1e7", "symgraph") and copy_times.get("fused_1e7"):
        t, c = med("fused_1e7", "symgraph"), copy_times["fused_1e7"]
        rows.append(
            ("fused 1e7 within 2x of np.copyto", f"{t / c:.2f}x copy", t <= 2 * c)
        )
    if med("matmul", "symgraph") and med("matmul", "numpy"):
        t, n = med("matmul", "symgraph"), med("matmul", "numpy")
        rows.append(
            ("matmul at least as fast as NumPy", f"{n / t:.2f}x NumPy's speed", t <= n)
        )
    for key, results in all_results.items():
        peer = best_peer(results)
        t = med(key, "symgraph")
        if peer and t is not None:
            rows.append(
                (
                    f"{key}: no slower than the fastest peer",
                    f"{t / peer.median:.2f}x {peer.label}",
                    t <= peer.median,
                )
            )
    sg_compile = compile_results.get("symgraph", {})
    for phase, limit in (("cold", 0.5), ("warm", 0.1)):
        t = sg_compile.get(phase, {}).get("first_result_s")
        if t is not None:
            rows.append(
                (f"MLP step {phase} compile < {limit} s", fmt_time(t), t < limit)
            )
    lines = [
        "## symgraph against its targets",
        "",
        "| target | measured | met |",
        "| --- | ---: | :---: |",
    ]
    lines += [
        f"| {name} | {value} | {'yes' if ok else 'no'} |" for name, value, ok in rows
    ]
    return lines + [""]


def machine_info(threads: int) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in fh
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "host": platform.node(),
        "cpu": cpu,
        "cpus_total": os.cpu_count(),
        "threads": threads,
        "os": platform.platform(),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


# --------------------------------------------------------------------- main


def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    if args.child:
        child_main(args.child)
        return 0
    import numpy as np

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    info = machine_info(args.threads)
    rounds = args.rounds or (3 if args.quick else 7)
    min_time = args.min_time or (0.01 if args.quick else 0.05)
    wanted = args.libs.split(",") if args.libs else list(LIBS)
    if args.quick and not args.libs:
        wanted.remove("torch.compile")
    workloads = args.workloads.split(",") if args.workloads else list(WORKLOADS)
    for bad in set(wanted) - set(LIBS) | set(workloads) - set(WORKLOADS):
        raise SystemExit(f"unknown library or workload: {bad}")
    wanted = ["numpy"] + [w for w in wanted if w != "numpy"]  # numpy is the reference

    libs, versions = {}, {}
    for name in wanted:
        try:
            builders, version, label = load_lib(name, np)
        except ImportError as exc:
            log(f"{name}: not importable ({exc}); skipped")
            continue
        libs[name] = (builders, version, label)
        versions[name] = version
    labels = ", ".join(lib[2] for lib in libs.values())
    log(f"libraries: {labels}; threads {args.threads}")

    all_results, copy_times = {}, {}
    for key in (w for w in workloads if w != "mlp_compile"):
        log(f"{TITLES[key]} ...")
        all_results[key], copy_times[key] = run_workload(
            key, libs, np, rounds, min_time, log
        )
    compile_results = {}
    if "mlp_compile" in workloads:
        todo = [n for n in CHILD_LIBS if n in libs]
        if args.quick:
            todo = [n for n in todo if n in ("symgraph", "jax")]
        runs = args.compile_runs or (1 if args.quick else 3)
        compile_results = cold_warm(todo, args.threads, runs, log)
    info["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None

    lines = report(
        info, versions, libs, rounds, all_results, copy_times, compile_results
    )
    print("\n".join(lines))
    if args.json:
        payload = {
            "machine": info,
            "versions": versions,
            "labels": {n: lib[2] for n, lib in libs.items()},
            "workloads": {
                k: [vars(r) | {"median": r.median} for r in res]
                for k, res in all_results.items()
            },
            "copy_times": copy_times,
            "compile": compile_results,
        }
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=1, default=str)
        log(f"wrote {args.json}")
    return 0


def busy_warning(info) -> list[str]:
    """A warning line when other work kept the CPUs busy during the run."""
    loads = [x[0] for x in (info["loadavg_start"], info["loadavg_end"]) if x]
    cpus = info["cpus_total"] or 1
    if loads and max(loads) > cpus:
        return [
            f"- **warning: the 1-minute load average reached {max(loads):.1f} on "
            f"{cpus} CPUs: other processes competed for the CPUs, so these timings "
            "(multi-threaded ones most) are unreliable**"
        ]
    return []


def report(info, versions, libs, rounds, all_results, copy_times, compile_results):
    load = "/".join(f"{x:.2f}" for x in info["loadavg_start"] or ())
    load_end = "/".join(f"{x:.2f}" for x in info["loadavg_end"] or ())
    lines = [
        f"# symgraph backend benchmarks, {info['date']}",
        "",
        f"- machine: {info['cpu']}, {info['cpus_total']} CPUs, {info['os']}, "
        f"Python {info['python']}",
        f"- every library held to {info['threads']} threads; load average "
        f"{load or '?'} at start, {load_end or '?'} at end",
        "- versions: " + ", ".join(f"{libs[n][2]} {v}" for n, v in versions.items()),
        *busy_warning(info),
        f"- median of {rounds} interleaved rounds; ratios are time / time of NumPy "
        "or of the fastest peer (PyTensor, JAX, PyTorch): below 1.00x is faster",
        "",
        "## Summary (median time per call)",
        "",
    ]
    names = list(libs)
    lines.append(
        "| workload | "
        + " | ".join(libs[n][2] for n in names)
        + " | symgraph vs NumPy | best peer | symgraph vs best peer |"
    )
    lines.append("| --- |" + " ---: |" * (len(names) + 1) + " --- | ---: |")
    for key, results in all_results.items():
        by = {r.lib: r for r in results}
        cells = [
            fmt_time(by[n].median) if n in by and not by[n].error else "failed"
            for n in names
        ]
        sg_t = by.get("symgraph").median if "symgraph" in by else None
        numpy_t = by["numpy"].median if "numpy" in by else None
        peer = best_peer(results)
        peer_cells = f"{peer.label} | {ratio(sg_t, peer.median)}" if peer else "— | —"
        lines.append(
            f"| {key} | "
            + " | ".join(cells)
            + f" | {ratio(sg_t, numpy_t)} | "
            + peer_cells
            + " |"
        )
    lines.append("")
    if compile_results:
        lines += compile_table(compile_results)
    lines += goals(all_results, compile_results, copy_times)
    lines += ["## Details", ""]
    for key, results in all_results.items():
        lines += workload_table(key, results, copy_times.get(key))
    return lines


if __name__ == "__main__":
    sys.exit(main())
