"""How long OpenMP worker threads spin after a region before they sleep.

libgomp reads ``GOMP_SPINCOUNT`` once, when it is loaded: by symgraph's
first compiled function, or earlier by a library that ships its own copy
under the same name (PyTorch's wheels do, and the loader then shares that
copy with symgraph's libraries). So importing this module, which
``import symgraph`` does, sets it; a user's own ``OMP_WAIT_POLICY`` or
``GOMP_SPINCOUNT`` wins.

Asleep, a worker wakes up late for the next region: back-to-back calls of
one loop ran 1.3-2x slower with ``OMP_WAIT_POLICY=PASSIVE``; a softmax
4096x1000 took 1.29-1.56 ms on a libgomp that PyTorch had loaded with no
setting, 1.12-1.19 ms with one (20,000, 300,000 or 3,000,000 spins alike).
But 300,000 spins (milliseconds here) keep the core from the BLAS threads of
the next product: ``tanh(dot(tanh(a), b))`` at 1024^2 took 2x as long.
20,000 spins cost that product about 10% and keep the loops fast.
"""

from __future__ import annotations

import os

SPIN_COUNT = "20000"


def set_spin_count() -> None:
    """Set ``GOMP_SPINCOUNT`` unless the user chose a wait policy."""
    if not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & os.environ.keys():
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT


set_spin_count()
