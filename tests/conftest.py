import os

# pytest -n 2 runs two workers on a 2-core machine: generated code that also
# spins up OpenMP threads in each would oversubscribe the cores (measured
# 30-50x slower). Tests check results, not speed, so one thread per worker;
# tests of the threaded paths set their own counts in a subprocess.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("SYMGRAPH_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

# CI gets deterministic examples; locally hypothesis explores.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.load_profile(
    "ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev")
)
