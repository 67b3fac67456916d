"""The workloads of bench_backends.py and each library's version of them.

A builder takes a workload's NumPy data (from :func:`make_data`) and returns
a callable that runs one call and returns a result that ``np.asarray`` turns
into NumPy (for the MLP step: the loss). Inputs are converted to the
library's own arrays before timing. Libraries are imported only when loaded,
after bench_backends.py has limited their threads.
"""

from __future__ import annotations

import os

LIBS = ("numpy", "symgraph", "pytensor", "jax", "torch", "torch.compile")
PEERS = ("pytensor", "jax", "torch", "torch.compile")
WORKLOADS = (
    "add_scalar",
    "add_vec10",
    "fused_1e6",
    "fused_1e7",
    "softmax",
    "sumexp",
    "matmul",
    "mlp_step",
    "mlp_compile",
)
A, B = 0.5, 0.1  # constants of the fused expression
LR = 0.01
MLP = (784, 500, 10, 128)  # inputs, hidden, classes, batch


# ------------------------------------------------------------------ the data


def make_data(key: str, np):
    rng = np.random.default_rng(0)
    if key == "add_scalar":
        return {"x": np.array(1.5)}
    if key == "add_vec10":
        return {"x": rng.standard_normal(10)}
    if key.startswith("fused"):
        n = int(float(key.split("_")[1]))
        return {"x": rng.standard_normal(n, dtype=np.float32)}
    if key == "softmax":
        return {"x": rng.standard_normal((4096, 1000), dtype=np.float32)}
    if key == "sumexp":
        return {"x": rng.standard_normal(10**7, dtype=np.float32)}
    if key == "matmul":
        return {k: rng.standard_normal((1024, 1024), dtype=np.float32) for k in "ab"}
    if key.startswith("mlp"):
        n_in, n_hid, n_out, batch = MLP
        bound = (6.0 / (n_in + n_hid)) ** 0.5
        labels = rng.integers(0, n_out, batch)
        return {
            "W1": rng.uniform(-bound, bound, (n_in, n_hid)).astype(np.float32),
            "b1": np.zeros(n_hid, np.float32),
            "W2": (0.01 * rng.standard_normal((n_hid, n_out))).astype(np.float32),
            "b2": np.zeros(n_out, np.float32),
            "x": rng.standard_normal((batch, n_in), dtype=np.float32),
            "y": np.eye(n_out, dtype=np.float32)[labels],
        }
    raise KeyError(key)


# ----------------------------------------------------------------- libraries


def numpy_builders(np):
    def fused(d):
        x = d["x"]
        return lambda: np.tanh(x * A + B) * (1 / (1 + np.exp(-x))) + np.exp(-x * x)

    def softmax(d):
        def run(x=d["x"]):
            e = np.exp(x - x.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        return run

    def mlp_step(d):
        W1, b1, W2, b2 = (d[k].copy() for k in ("W1", "b1", "W2", "b2"))
        x, y = d["x"], d["y"]

        def run():
            h = np.tanh(x @ W1 + b1)
            z = h @ W2 + b2
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            loss = -(y * logp).sum(axis=1).mean()
            gz = (np.exp(logp) - y) / len(x)
            gh = (gz @ W2.T) * (1 - h * h)
            W2[...] -= LR * (h.T @ gz)  # in place, like the others' updates
            b2[...] -= LR * gz.sum(axis=0)
            W1[...] -= LR * (x.T @ gh)
            b1[...] -= LR * gh.sum(axis=0)
            return loss

        return run

    return {
        "add_scalar": lambda d: lambda x=d["x"]: x + 1,
        "add_vec10": lambda d: lambda x=d["x"]: x + 1,
        "fused_1e6": fused,
        "fused_1e7": fused,
        "softmax": softmax,
        "sumexp": lambda d: lambda x=d["x"]: np.exp(x).sum(),
        "matmul": lambda d: lambda a=d["a"], b=d["b"]: a @ b,
        "mlp_step": mlp_step,
    }


def symgraph_builders(np):
    import symgraph as sg
    import symgraph.tensor as T

    def compile1(make_inputs, expr, d):
        inputs = make_inputs()
        f = sg.function(inputs, expr(*inputs))
        args = [d[k] for k in sorted(d)]
        return lambda: f(*args)

    def mlp_step(d):
        params = [sg.shared(d[k].copy(), name=k) for k in ("W1", "b1", "W2", "b2")]
        W1, b1, W2, b2 = params
        x, y = T.fmatrix("x"), T.fmatrix("y")
        probs = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1) + b1), W2) + b2)
        loss = T.nnet.categorical_crossentropy(probs, y).mean()
        grads = sg.grad(loss, params)
        updates = [(p, p - LR * g) for p, g in zip(params, grads, strict=True)]
        f = sg.function([x, y], loss, updates=updates)
        return lambda: f(d["x"], d["y"])

    def fused(x):
        return T.tanh(x * A + B) * T.nnet.sigmoid(x) + T.exp(-x * x)

    return {
        "add_scalar": lambda d: compile1(lambda: [T.dscalar("x")], lambda x: x + 1, d),
        "add_vec10": lambda d: compile1(lambda: [T.dvector("x")], lambda x: x + 1, d),
        "fused_1e6": lambda d: compile1(lambda: [T.fvector("x")], fused, d),
        "fused_1e7": lambda d: compile1(lambda: [T.fvector("x")], fused, d),
        "softmax": lambda d: compile1(lambda: [T.fmatrix("x")], T.nnet.softmax, d),
        "sumexp": lambda d: compile1(
            lambda: [T.fvector("x")], lambda x: T.exp(x).sum(), d
        ),
        "matmul": lambda d: compile1(
            lambda: [T.fmatrix("a"), T.fmatrix("b")], T.dot, d
        ),
        "mlp_step": mlp_step,
    }


def pytensor_builders(np):
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import Mode

    # PyTensor 3 defaults to its Numba linker; the peer here is the C/CVM one.
    mode = Mode(linker="cvm", optimizer="fast_run")
    a, b = np.float32(A), np.float32(B)  # Python floats would upcast to float64

    def compile1(make_inputs, expr, d):
        inputs = make_inputs()
        f = pytensor.function(inputs, expr(*inputs), mode=mode)
        args = [d[k] for k in sorted(d)]
        return lambda: f(*args)

    def mlp_step(d):
        params = [
            pytensor.shared(d[k].copy(), name=k) for k in ("W1", "b1", "W2", "b2")
        ]
        W1, b1, W2, b2 = params
        x, y = pt.fmatrix("x"), pt.fmatrix("y")
        z = pt.dot(pt.tanh(pt.dot(x, W1) + b1), W2) + b2
        loss = -(y * pt.special.log_softmax(z, axis=1)).sum(axis=1).mean()
        grads = pytensor.grad(loss, params)
        lr = np.float32(LR)
        updates = [(p, p - lr * g) for p, g in zip(params, grads, strict=True)]
        f = pytensor.function([x, y], loss, updates=updates, mode=mode)
        return lambda: f(d["x"], d["y"])

    def fused(x):
        return pt.tanh(x * a + b) * pt.sigmoid(x) + pt.exp(-x * x)

    softmax = lambda x: pt.special.softmax(x, axis=1)  # noqa: E731
    return {
        "add_scalar": lambda d: compile1(lambda: [pt.dscalar("x")], lambda x: x + 1, d),
        "add_vec10": lambda d: compile1(lambda: [pt.dvector("x")], lambda x: x + 1, d),
        "fused_1e6": lambda d: compile1(lambda: [pt.fvector("x")], fused, d),
        "fused_1e7": lambda d: compile1(lambda: [pt.fvector("x")], fused, d),
        "softmax": lambda d: compile1(lambda: [pt.fmatrix("x")], softmax, d),
        "sumexp": lambda d: compile1(
            lambda: [pt.fvector("x")], lambda x: pt.exp(x).sum(), d
        ),
        "matmul": lambda d: compile1(
            lambda: [pt.fmatrix("a"), pt.fmatrix("b")], pt.dot, d
        ),
        "mlp_step": mlp_step,
    }


def jax_builders(np):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # so the scalar case is float64

    def jit1(fn, d):
        f = jax.jit(fn)
        args = [jax.device_put(d[k]) for k in sorted(d)]
        return lambda: f(*args).block_until_ready()

    def loss_fn(params, x, y):
        W1, b1, W2, b2 = params
        z = jnp.tanh(x @ W1 + b1) @ W2 + b2
        return -(y * jax.nn.log_softmax(z, axis=1)).sum(axis=1).mean()

    def mlp_step(d):
        @jax.jit
        def step(params, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            return loss, [p - LR * g for p, g in zip(params, grads, strict=True)]

        state = [jax.device_put(d[k].copy()) for k in ("W1", "b1", "W2", "b2")]
        x, y = jax.device_put(d["x"]), jax.device_put(d["y"])

        def run():
            loss, state[:] = step(state, x, y)
            return loss.block_until_ready()

        return run

    def fused(x):
        return jnp.tanh(x * A + B) * jax.nn.sigmoid(x) + jnp.exp(-x * x)

    return {
        "add_scalar": lambda d: jit1(lambda x: x + 1, d),
        "add_vec10": lambda d: jit1(lambda x: x + 1, d),
        "fused_1e6": lambda d: jit1(fused, d),
        "fused_1e7": lambda d: jit1(fused, d),
        "softmax": lambda d: jit1(lambda x: jax.nn.softmax(x, axis=1), d),
        "sumexp": lambda d: jit1(lambda x: jnp.exp(x).sum(), d),
        "matmul": lambda d: jit1(lambda a, b: a @ b, d),
        "mlp_step": mlp_step,
    }


def torch_builders(np, compiled: bool):
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    wrap = torch.compile if compiled else (lambda f: f)

    def call1(fn, d):
        f = wrap(fn)
        args = [torch.from_numpy(d[k].copy()) for k in sorted(d)]
        return lambda: f(*args)

    def loss_fn(params, x, y):
        W1, b1, W2, b2 = params
        z = torch.tanh(x @ W1 + b1) @ W2 + b2
        return -(y * torch.log_softmax(z, dim=1)).sum(dim=1).mean()

    def mlp_step(d):
        params = [torch.from_numpy(d[k].copy()) for k in ("W1", "b1", "W2", "b2")]
        x, y = torch.from_numpy(d["x"]), torch.from_numpy(d["y"])
        if compiled:  # functional gradient, so the whole step is one graph

            def step(params, x, y):
                grads, loss = torch.func.grad_and_value(loss_fn)(params, x, y)
                with torch.no_grad():
                    for p, g in zip(params, grads, strict=True):
                        p.sub_(LR * g)
                return loss

            step = torch.compile(step)
            return lambda: step(params, x, y).detach()
        for p in params:
            p.requires_grad_(True)

        def run():
            loss = loss_fn(params, x, y)
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p.sub_(LR * p.grad)
                    p.grad = None
            return loss.detach()

        return run

    def fused(x):
        return torch.tanh(x * A + B) * torch.sigmoid(x) + torch.exp(-x * x)

    return {
        "add_scalar": lambda d: call1(lambda x: x + 1, d),
        "add_vec10": lambda d: call1(lambda x: x + 1, d),
        "fused_1e6": lambda d: call1(fused, d),
        "fused_1e7": lambda d: call1(fused, d),
        "softmax": lambda d: call1(lambda x: torch.softmax(x, dim=1), d),
        "sumexp": lambda d: call1(lambda x: torch.exp(x).sum(), d),
        "matmul": lambda d: call1(lambda a, b: a @ b, d),
        "mlp_step": mlp_step,
    }


def load_lib(name: str, np, probe: bool = True):
    """(builders, version, label) for ``name``, or raise ImportError.

    ``probe``: compile a tiny symgraph function to learn its default backend
    for the label (skipped where compile time is being measured).
    """
    if name == "numpy":
        return numpy_builders(np), np.__version__, "numpy"
    if name == "symgraph":
        import symgraph as sg
        import symgraph.tensor as T

        label = "symgraph"
        if probe:
            label += f" ({sg.function([x := T.dscalar('x')], x + 1).backend})"
        return symgraph_builders(np), sg.__version__, label
    if name == "pytensor":
        import warnings

        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        import pytensor

        blas = "" if pytensor.config.blas__ldflags else ", no BLAS linked"
        return pytensor_builders(np), pytensor.__version__, f"pytensor (c/cvm{blas})"
    if name == "jax":
        import jax

        return jax_builders(np), jax.__version__, "jax (jit)"
    if name in ("torch", "torch.compile"):
        import torch

        compiled = name == "torch.compile"
        label = "torch.compile" if compiled else "torch (eager)"
        return torch_builders(np, compiled), torch.__version__, label
    raise ValueError(name)


TITLES = {
    "add_scalar": "call overhead: x+1, float64 scalar",
    "add_vec10": "call overhead: x+1, float64 10-vector",
    "fused_1e6": "fused tanh(x*a+b)*sigmoid(x)+exp(-x*x), 1e6 float32",
    "fused_1e7": "fused tanh(x*a+b)*sigmoid(x)+exp(-x*x), 1e7 float32",
    "softmax": "row softmax 4096x1000 float32",
    "sumexp": "sum(exp(x)), 1e7 float32",
    "matmul": "matmul 1024x1024 @ 1024x1024 float32",
    "mlp_step": "MLP step 784-500-10 tanh/softmax/xent, batch 128, SGD in-function",
}
