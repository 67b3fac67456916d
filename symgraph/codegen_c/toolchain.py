"""Find the C compiler and probe what it can do on this host.

Probes (does it work, OpenMP, which glibc libmvec vector maths links, what
``-march=native`` means) cost tens of milliseconds of compiler runs, so their
results are cached on disk per compiler binary, glibc and CPU, and memoised in
the process: a warm process pays a ``stat`` and a small JSON read once.
``sg.function`` starts the probe's compiler runs (`probe_in_background`)
before it rewrites the graph, so that a first probe overlaps that work.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import vmath
from .diskcache import native_dir

__all__ = [
    "NoCompilerError",
    "Toolchain",
    "compiler_works",
    "cpu_flags",
    "get_toolchain",
    "probe_in_background",
    "simd_declarations",
]

PROBE_VERSION = 4  # bump when a probe changes meaning

# -O2 -march=native without -ffast-math: results stay IEEE. With -O3's
# vectoriser cost model (-fvect-cost-model=dynamic; -O2's "very cheap" model
# leaves the 'omp simd reduction' loops of softmax and friends scalar), -O2
# runs the benchmarks as fast as -O3 and builds about 1.6x faster. -fno-math-errno
# only stops libm calls from setting errno; return values (inf, nan, signed
# zeros, rounding) are unchanged, and it lets sqrt/floor/... inline and loops
# with math calls vectorise. tests/codegen_c/test_build.py checks special
# values against NumPy. -fno-semantic-interposition: direct calls inside the
# .so (no PLT), which no one interposes.
BASE_CFLAGS = (
    "-O2",
    "-fvect-cost-model=dynamic",
    "-march=native",
    "-fPIC",
    "-shared",
    "-pipe",
    "-fno-math-errno",
    "-fno-semantic-interposition",
)
# One unit built on several cores: GCC's link-time optimiser splits it into
# partitions of at least this many (estimated) instructions and compiles them
# in parallel, through make. The MLP step's unit (5 partitions) builds in
# 0.36 s instead of 0.45 s of wall time on 2 cores, for ~0.12 s more CPU; the
# fixed cost (~40 ms) loses on small units, see `Toolchain.parallel_cflags`.
LTO_MIN_PARTITION = 500
# --no-undefined: a missing symbol fails the build (a CompileError showing the
# linker's message) instead of a later, vaguer dlopen error.
BASE_LDFLAGS = ("-Wl,--no-undefined", "-lm")

# glibc libmvec functions and their arity. Since 2.22: sin cos exp log pow;
# the rest since 2.35, so each is probed (float and double separately).
MVEC_ARITY = {
    **dict.fromkeys(
        "sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp exp2 "
        "exp10 expm1 log log2 log10 log1p cbrt erf erfc".split(),
        1,
    ),
    **dict.fromkeys(("pow", "atan2", "hypot"), 2),
}

# Instruction-set flags that change what code -march=native may emit.
_X86_FLAG = re.compile(
    r"(sse\d\w*|ssse3|avx\w*|fma\w*|f16c|bmi\d|popcnt|amx\w*|movbe|lzcnt|abm)"
)


class NoCompilerError(RuntimeError):
    """No working C compiler was found (set ``CC`` to choose one)."""


@dataclass(frozen=True)
class Toolchain:
    """A probed C compiler and the flags symgraph builds with.

    ``cc`` is the compiler command (it may hold several words, e.g. from
    ``CC="ccache gcc"``); ``cpu_key`` describes the host's instruction set for
    the cache key, since ``-march=native`` output only runs on such CPUs.
    """

    cc: str
    version: str
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    has_openmp: bool
    has_libmvec: bool
    cpu_key: str
    mvec_functions: frozenset[str] = field(default_factory=frozenset)
    has_lto: bool = False  # GCC with its link-time optimiser (lto-wrapper)
    has_vmath: bool = False  # vmath.py's AVX-512 exp/tanh fit this build

    def argv(
        self,
        source: str,
        output: str,
        extra_cflags: tuple[str, ...] = (),
        extra_ldflags: tuple[str, ...] = (),
    ) -> list[str]:
        """Return the command line that builds `output` from `source`."""
        return [
            *shlex.split(self.cc),
            *self.cflags,
            *extra_cflags,
            "-o",
            output,
            source,
            *extra_ldflags,
            *self.ldflags,
        ]

    def parallel_cflags(self) -> tuple[str, ...]:
        """Flags that build one unit on several cores, or () where none would.

        Worth it for a unit whose compile takes a few tenths of a second (in
        symgraph: a dozen vectorised loops or more). Needs GCC's link-time
        optimiser, ``make`` (which runs its jobs) and two CPUs.
        """
        if not self.has_lto or _usable_cpus() < 2 or not shutil.which("make"):
            return ()
        return ("-flto=auto", f"--param=lto-min-partition={LTO_MIN_PARTITION}")


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_flags() -> tuple[str, ...]:
    """Return the sorted instruction-set flags of the host CPU that matter.

    Read from the first ``flags`` (x86) or ``Features`` (Arm) line of
    ``/proc/cpuinfo``; empty where there is none.
    """
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:  # stop at the first CPU: big hosts have long files
                name, _, value = line.partition(":")
                if name.strip() in ("flags", "Features"):
                    words = value.split()
                    if name.strip() == "flags":
                        words = [w for w in words if _X86_FLAG.fullmatch(w)]
                    return tuple(sorted(set(words)))
    except OSError:
        pass
    return ()


def _find_cc() -> str | None:
    env = os.environ.get("CC", "").strip()
    if env:
        return env
    for name in ("cc", "gcc"):
        if found := shutil.which(name):
            return found
    return None


def _run(argv: list[str], cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True)


def _builds(cc: list[str], tmp: str, code: str, flags: list[str]) -> bool:
    Path(tmp, "probe.c").write_text(code)
    return _run([*cc, *flags, "probe.c", "-o", "probe.so"], tmp).returncode == 0


def _mvec_signature(name: str) -> tuple[str, int]:
    """Return (C type, arity) of libmvec function `name` ("expf", "pow")."""
    if name in MVEC_ARITY:
        return "double", MVEC_ARITY[name]
    return "float", MVEC_ARITY[name[:-1]]


# x86-64 vector ABI: (ISA letter, lanes of float, lanes of double) of the
# variants GCC may call for a 'simd("notinbranch")' declaration.
_X86_VARIANTS = (("b", 4, 2), ("c", 8, 4), ("d", 8, 4), ("e", 16, 8))


def _mvec_exports(name: str) -> list[str]:
    """The x86-64 libmvec symbols GCC may call for `name` ("expf", "pow")."""
    t, arity = _mvec_signature(name)
    return [
        f"_ZGV{isa}N{nf if t == 'float' else nd}{'v' * arity}_{name}"
        for isa, nf, nd in _X86_VARIANTS
    ]


def _probe_mvec_x86(cc: list[str], tmp: str, simd_flag: str) -> list[str] | None:
    """The libmvec functions with every x86-64 variant exported, or None.

    One small build shows that the compiler vectorises a call through a
    simd declaration and links it; the rest is symbol lookups in libmvec,
    much faster than building a kernel per function.
    """
    code = (
        simd_declarations(["expf"])
        + "\nfloat x[64], y[64];\nint main(void) {\n#pragma omp simd\n"
        "  for (int i = 0; i < 64; i++) y[i] = expf(x[i]);\n  return 0;\n}\n"
    )
    Path(tmp, "mvec.c").write_text(code)
    flags = ["-O2", "-march=native", "-fno-math-errno", simd_flag]
    res = _run([*cc, *flags, "mvec.c", "-o", "mvec", "-lmvec", "-lm"], tmp)
    if res.returncode != 0 or b"_ZGV" not in Path(tmp, "mvec").read_bytes():
        return None
    return _libmvec_x86_functions()


def _libmvec_x86_functions() -> list[str] | None:
    """The functions of `MVEC_ARITY` whose x86-64 variants libmvec all exports."""
    import ctypes

    try:
        lib = ctypes.CDLL("libmvec.so.1")
    except OSError:
        return None
    names = [f + s for f in MVEC_ARITY for s in ("", "f")]
    return [n for n in names if all(hasattr(lib, sym) for sym in _mvec_exports(n))]


def _openmp_mvec_x86(cc: list[str], tmp: str) -> list[str]:
    """The command that probes OpenMP and libmvec with one build (x86-64).

    The probe's time is mostly its builds, and a usual Linux host passes both
    tests: one shared library that calls OpenMP and a vectorised ``expf``.
    When it fails, each is probed on its own.
    """
    code = (
        "#include <omp.h>\n" + simd_declarations(["expf"]) + "\nfloat x[64], y[64];\n"
        "int threads(void) { return omp_get_max_threads(); }\n"
        "void vexp(void) {\n#pragma omp simd\n"
        "  for (int i = 0; i < 64; i++) y[i] = expf(x[i]);\n}\n"
    )
    Path(tmp, "omp_mvec.c").write_text(code)
    flags = ["-O2", "-march=native", "-fno-math-errno", "-fopenmp", "-fPIC"]
    link = ["-shared", BASE_LDFLAGS[0], "-lmvec", *BASE_LDFLAGS[1:]]
    return [*cc, *flags, "omp_mvec.c", "-o", "omp_mvec.so", *link]


def _vmath_probe_code() -> str:
    """vmath.py's C, which only GCC with AVX-512 builds (its builtins)."""
    return "#include <math.h>\n" + vmath.vmath_source(vmath.REPLACED) + "\n"


def _vmath_x86(cc: list[str], tmp: str) -> list[str]:
    """The command that builds vmath.py's functions: an object file at -O0,
    the quickest answer to whether this compiler takes them."""
    Path(tmp, "vmath.c").write_text(_vmath_probe_code())
    return [*cc, "-O0", "-march=native", "-fopenmp", "-c", "vmath.c", "-o", "vmath.o"]


def _probe_mvec(cc: list[str], tmp: str, simd_flag: str) -> list[str]:
    """Return the libmvec functions that link *and* get vectorised calls."""
    if platform.machine() in ("x86_64", "AMD64"):
        found = _probe_mvec_x86(cc, tmp, simd_flag)
        if found is not None:
            return found
    names = [f + s for f in MVEC_ARITY for s in ("", "f")]
    flags = ["-O3", "-march=native", "-fno-math-errno", simd_flag]
    for _ in range(4):  # each round drops the names the linker rejected
        if not names:
            return []
        kernels = []
        for n in names:
            t, arity = _mvec_signature(n)
            args = ", ".join([f"x_{n}[i]"] * arity)
            kernels.append(
                f"{t} x_{n}[64], y_{n}[64];\n"
                f"__attribute__((noinline)) void k_{n}(void) {{\n"
                f"#pragma omp simd\n"
                f"  for (int i = 0; i < 64; i++) y_{n}[i] = {n}({args});\n}}\n"
            )
        calls = "".join(f"  k_{n}();\n" for n in names)
        code = "\n".join(
            [simd_declarations(names), *kernels, f"int main(void) {{\n{calls}}}\n"]
        )
        Path(tmp, "mvec.c").write_text(code)
        res = _run([*cc, *flags, "mvec.c", "-o", "mvec", "-lmvec", "-lm"], tmp)
        if res.returncode == 0:
            binary = Path(tmp, "mvec").read_bytes()
            return [
                n
                for n in names
                if re.search(rb"_ZGV[a-z]N\d+v+_" + n.encode() + rb"\0", binary)
            ]
        missing = set(re.findall(r"_ZGV[a-zA-Z]N\d+v+_(\w+)", res.stderr))
        if not missing:  # no libmvec at all, or something else is wrong
            return []
        names = [n for n in names if n not in missing]
    return []


class _Probe:
    """A probe whose first compiler runs start at once; `finish` waits.

    No thread: the compilers run while the caller goes on, and nothing
    competes with the caller for the GIL (a thread that waits on processes
    and files beside busy Python code is slowed down several times). `finish`
    reads their answers and, where the one-build probe of OpenMP and libmvec
    failed, probes them one at a time.
    """

    def __init__(self, cc: str) -> None:
        self.argv = shlex.split(cc)
        self.tmp = tempfile.mkdtemp(prefix="symgraph-probe-")
        self.procs: dict[str, subprocess.Popen] = {}
        # Reaps the compilers and removes the directory when the probe is
        # finished, or else when the interpreter exits.
        self._cleanup = weakref.finalize(self, _cleanup, self.procs, self.tmp)
        runs = {}
        if platform.machine() in ("x86_64", "AMD64"):  # the longest runs first
            runs["omp_mvec"] = _openmp_mvec_x86(self.argv, self.tmp)
            runs["vmath"] = _vmath_x86(self.argv, self.tmp)
        runs["version"] = [*self.argv, "--version"]
        runs["march"] = [*self.argv, "-march=native", "-Q", "--help=target"]
        runs["lto"] = [*self.argv, "-print-prog-name=lto-wrapper"]
        try:
            for name, argv in runs.items():
                with open(Path(self.tmp, f"{name}.out"), "w") as out:
                    self.procs[name] = subprocess.Popen(
                        argv, cwd=self.tmp, stdout=out, stderr=subprocess.STDOUT
                    )
        except OSError:  # no such program: finish() says it does not work
            pass

    def finish(self) -> dict:
        """The probe's result (see `get_toolchain`); call it once."""
        try:
            return self._result()
        finally:
            self._cleanup()

    def _result(self) -> dict:
        rc = {name: proc.wait() for name, proc in self.procs.items()}
        if rc.get("version") != 0:
            return {"works": False}
        out = {
            name: Path(self.tmp, f"{name}.out").read_text("utf-8", "replace")
            for name in rc
        }
        version = out["version"].strip().splitlines()
        if not version:
            return {"works": False}
        mvec = None
        if rc.get("omp_mvec") == 0:
            if b"_ZGV" in Path(self.tmp, "omp_mvec.so").read_bytes():
                mvec = _libmvec_x86_functions()
        has_openmp = mvec is not None
        if mvec is None:
            found = _probe_builds(self.argv, self.tmp)
            if found is None:
                return {"works": False}
            has_openmp, mvec = found
        vmath_built = (
            rc.get("vmath") == 0
            and b"_ZGVeN16v_sg_vexpf" in Path(self.tmp, "vmath.o").read_bytes()
        )
        march = re.search(r"^\s*-march=\s*(\S+)", out.get("march", ""), re.M)
        return {
            "works": True,
            "version": version[0],
            "march": march.group(1) if march and rc["march"] == 0 else "native",
            "has_openmp": has_openmp,
            "mvec": mvec,
            "lto": rc.get("lto") == 0 and _is_lto_wrapper(out["lto"].strip()),
            "vmath": vmath_built
            and has_openmp
            and rc.get("march") == 0
            and _vectorises_avx512(out["march"]),
        }


def _vectorises_avx512(target_help: str) -> bool:
    """Does GCC (its ``-march=native -Q --help=target``) vectorise with zmm?

    vmath.py's functions have 16-lane AVX-512 versions only: a target whose
    tuning prefers 256-bit vectors (GCC's choice for most Intel CPUs) would
    call their scalar versions, slower than libmvec.
    """
    if not re.search(r"^\s*-mavx512f\s+\[enabled\]", target_help, re.M):
        return False
    width = re.search(r"^\s*-mprefer-vector-width=\s+(\S+)", target_help, re.M)
    return width is not None and width.group(1) in ("none", "512")


def _cleanup(procs: dict, tmp: str) -> None:
    for proc in procs.values():
        proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def _is_lto_wrapper(path: str) -> bool:
    """Is `path` (from ``-print-prog-name=lto-wrapper``) GCC's LTO driver?

    GCC answers with the full path of the one it ships; other compilers
    answer with the bare name.
    """
    return os.path.isabs(path) and os.path.exists(path)


def _probe(cc: str) -> dict:
    return _Probe(cc).finish()


def _probe_builds(argv: list[str], tmp: str) -> tuple[bool, list[str]] | None:
    """(OpenMP works, libmvec functions) by one build each, or None if nothing
    builds."""
    shared = ["-fPIC", "-shared", *BASE_LDFLAGS]
    omp = "#include <omp.h>\nint f(void) { return omp_get_max_threads(); }\n"
    has_openmp = _builds(argv, tmp, omp, ["-fopenmp", *shared])
    if not has_openmp and not _builds(argv, tmp, "int f(void) { return 1; }\n", shared):
        return None
    simd_flag = "-fopenmp" if has_openmp else "-fopenmp-simd"
    return has_openmp, _probe_mvec(argv, tmp, simd_flag)


def _cache_path(cc: str) -> Path | None:
    """Where the probe of `cc` is kept on disk, or None if it cannot be."""
    exe = shutil.which(shlex.split(cc)[0]) or shlex.split(cc)[0]
    try:
        st = os.stat(exe)
    except OSError:
        return None
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc = ""
    ident = [os.path.realpath(exe), st.st_size, st.st_mtime_ns]
    ident += [cc, libc, platform.machine(), cpu_flags(), PROBE_VERSION]
    digest = hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:24]
    return native_dir() / "toolchain" / f"{digest}.json"


def _probe_cached(cc: str, started: _Probe | None = None) -> dict:
    """Probe `cc` (finish `started`), or read the result from disk when this
    compiler is known."""
    path = _cache_path(cc)
    if started is None and path is not None:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass
    result = started.finish() if started is not None else _probe(cc)
    if result["works"] and path is not None:  # a failure may be transient
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(result, indent=1))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs a re-probe
    return result


# Probes started by probe_in_background, by compiler command: the next
# get_toolchain() for that compiler finishes it instead of probing.
_started: dict[str, _Probe] = {}
_started_lock = threading.Lock()


def probe_in_background() -> None:
    """Start the compiler runs of a probe, unless its result is known.

    They (about 40 ms) then overlap whatever the caller does next;
    `get_toolchain` waits for them and raises the same errors as if it had
    probed itself.
    """
    if get_toolchain.cache_info().currsize:
        return
    cc = _find_cc()
    if cc is None:
        return
    path = _cache_path(cc)
    if path is not None and path.exists():
        return  # get_toolchain reads it
    with _started_lock:
        if cc not in _started:
            _started[cc] = _Probe(cc)


def _probe_result(cc: str) -> dict:
    """The probe of `cc`: the one started in the background, else a new one."""
    with _started_lock:
        started = _started.pop(cc, None)
    return _probe_cached(cc, started)


@cache
def get_toolchain() -> Toolchain:
    """Return the probed `Toolchain` (memoised for the process).

    Raises
    ------
    NoCompilerError
        If neither ``$CC`` nor ``cc``/``gcc`` compiles a trivial shared library.
    """
    cc = _find_cc()
    probe = _probe_result(cc) if cc else {"works": False}
    if not probe["works"]:
        raise NoCompilerError(
            f"no working C compiler (tried {cc or 'cc, gcc'}): install gcc or "
            "set CC to a compiler that builds shared libraries"
        )
    mvec = frozenset(probe["mvec"])
    cflags = BASE_CFLAGS + (("-fopenmp",) if probe["has_openmp"] else ())
    ldflags = BASE_LDFLAGS[:1] + (("-lmvec",) if mvec else ()) + BASE_LDFLAGS[1:]
    flags = ",".join(cpu_flags())
    return Toolchain(
        cc=cc,
        version=probe["version"],
        cflags=cflags,
        ldflags=ldflags,
        has_openmp=probe["has_openmp"],
        has_libmvec=bool(mvec),
        cpu_key=f"{platform.machine()}:{probe['march']}:{flags}",
        mvec_functions=mvec,
        has_lto=probe.get("lto", False),
        has_vmath=probe.get("vmath", False),
    )


def compiler_works() -> bool:
    """Return True if a working C compiler was found (see `get_toolchain`)."""
    try:
        get_toolchain()
    except NoCompilerError:
        return False
    return True


def simd_declarations(names) -> str:
    """Return C prototypes declaring libmvec vector variants of `names`.

    With them GCC vectorises loops calling e.g. ``expf`` without
    ``-ffast-math``. Pass only names in ``get_toolchain().mvec_functions``
    (link with its ``ldflags``); ``"tanhf"`` is float, ``"tanh"`` double.

    Examples
    --------
    >>> simd_declarations(["expf"])
    'float expf(float) __attribute__((simd("notinbranch")));'
    """
    lines = []
    for name in sorted(names):
        t, arity = _mvec_signature(name)
        args = ", ".join([t] * arity)
        lines.append(f'{t} {name}({args}) __attribute__((simd("notinbranch")));')
    return "\n".join(lines)
