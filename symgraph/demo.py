"""``python -m symgraph.demo``: train a small network, compiled, on real digits.

The network is written by hand with symgraph ops, as in the classic Theano
tutorial: one tanh hidden layer, a softmax output, the mean cross-entropy as
the loss, and its gradient from :func:`symgraph.grad`. One compiled function
does a whole step of minibatch SGD (forward, backward and the parameter
updates, which run inside the compiled code). The data set ships with the
install (scikit-learn's 8x8 digits), so the demo runs offline; pass
``--dataset mnist`` to train on MNIST from ``$SYMGRAPH_DATA/mnist`` (or from
the cache, downloaded once when ``SYMGRAPH_DATA`` is unset).

Run ``python -m symgraph.demo --help`` for the options. From Python:

>>> from symgraph.demo import main
>>> result = main(["--epochs", "1", "--no-progress"])  # doctest: +SKIP
>>> result["test_accuracy"] > 0.8                      # doctest: +SKIP
True
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph import datasets

# Defaults per data set: chosen so the digits run ends well above 95% test
# accuracy in a few seconds, and an MNIST run in about a minute.
DEFAULTS = {
    "digits": {"epochs": 20, "hidden": 64, "lr": 0.2, "batch_size": 32},
    "mnist": {"epochs": 5, "hidden": 256, "lr": 0.1, "batch_size": 64},
}


def build_model(n_in: int, n_hidden: int, n_out: int, lr: float, rng, backend=None):
    """The network, its loss and gradients, compiled into two functions.

    Returns ``(train_step, predict, params)``: ``train_step(x, y_onehot)``
    returns the minibatch loss and updates the parameters in place;
    ``predict(x)`` returns class probabilities.
    """
    floatX = "float32"
    # Glorot-uniform weights for the tanh layer; the output layer starts at 0.
    bound = np.sqrt(6.0 / (n_in + n_hidden))
    W1 = sg.shared(
        rng.uniform(-bound, bound, (n_in, n_hidden)).astype(floatX), name="W1"
    )
    b1 = sg.shared(np.zeros(n_hidden, floatX), name="b1")
    W2 = sg.shared(np.zeros((n_hidden, n_out), floatX), name="W2")
    b2 = sg.shared(np.zeros(n_out, floatX), name="b2")
    params = [W1, b1, W2, b2]

    x = T.matrix("x", dtype=floatX)  # a minibatch of images, one per row
    y = T.matrix("y", dtype=floatX)  # their labels, one-hot
    hidden = T.tanh(T.dot(x, W1) + b1)
    probs = T.nnet.softmax(T.dot(hidden, W2) + b2)
    loss = T.nnet.categorical_crossentropy(probs, y).mean()
    grads = sg.grad(loss, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads, strict=True)]

    train_step = sg.function(
        [x, y], loss, updates=updates, name="train_step", backend=backend
    )
    predict = sg.function([x], probs, name="predict", backend=backend)
    return train_step, predict, params


def accuracy(predict, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    """Fraction of rows of ``x`` whose most probable class is ``y``."""
    hits = 0
    for start in range(0, len(x), batch):
        probs = predict(x[start : start + batch])
        hits += int((np.argmax(probs, axis=1) == y[start : start + batch]).sum())
    return hits / len(x)


def write_source(function, dataset: str) -> Path:
    """Write ``function.source`` into the cache dir; return the file's path."""
    from symgraph.codegen_c.diskcache import cache_dir

    suffix = {"c": ".c", "cuda": ".cu"}.get(function.backend, ".txt")
    path = (
        cache_dir() / "demo" / f"{function.name}_{dataset}_{function.backend}{suffix}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(function.source)
    return path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m symgraph.demo",
        description="Train a one-hidden-layer tanh network (softmax output, mean "
        "cross-entropy, minibatch SGD) written with symgraph and compiled by it.",
    )
    parser.add_argument(
        "--dataset",
        choices=sorted(DEFAULTS),
        default="digits",
        help="digits: scikit-learn's bundled 8x8 digits (default, "
        "offline); mnist: from $SYMGRAPH_DATA/mnist or the cache",
    )
    parser.add_argument(
        "--epochs", type=int, help="passes over the training set (digits: 20, mnist: 5)"
    )
    parser.add_argument(
        "--hidden", type=int, help="hidden units (digits: 64, mnist: 256)"
    )
    parser.add_argument(
        "--lr", type=float, help="SGD learning rate (digits: 0.2, mnist: 0.1)"
    )
    parser.add_argument(
        "--batch-size", type=int, help="minibatch size (digits: 32, mnist: 64)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the weights, the shuffling and the digits split",
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "c", "python"],
        default="auto",
        help="symgraph backend (auto: C when a compiler works)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    for key, value in DEFAULTS[args.dataset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("epochs", "hidden", "batch_size"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1")
    if not args.lr > 0:
        parser.error("--lr must be positive")
    return args


def load_data(name: str, seed: int):
    """The data set, standardised with the training set's statistics."""
    data = (
        datasets.load_digits(seed=seed) if name == "digits" else datasets.load_mnist()
    )
    mean = data.x_train.mean(axis=0)
    scale = data.x_train.std(axis=0) + 0.1  # +0.1: blank pixels stay small
    x_train = ((data.x_train - mean) / scale).astype("float32")
    x_test = ((data.x_test - mean) / scale).astype("float32")
    return data, x_train, x_test


def main(argv=None, out=None) -> dict:
    """Run the demo with command-line ``argv``; print to ``out``, return results."""
    from tqdm import tqdm

    args = parse_args(argv)
    out = out or sys.stdout

    def say(text=""):
        print(text, file=out, flush=True)

    rng = np.random.default_rng(args.seed)
    data, x_train, x_test = load_data(args.dataset, args.seed)
    eye = np.eye(data.n_classes, dtype="float32")
    say(f"data     {data!r}")

    start = time.perf_counter()
    train_step, predict, _ = build_model(
        data.n_features,
        args.hidden,
        data.n_classes,
        args.lr,
        rng,
        backend=None if args.backend == "auto" else args.backend,
    )
    compile_s = time.perf_counter() - start
    source_path = write_source(train_step, args.dataset)
    say(
        f"model    {data.n_features}-{args.hidden}-{data.n_classes} tanh/softmax, "
        f"SGD lr={args.lr}, batch {args.batch_size}"
    )
    say(f"compiled train step + predict in {compile_s:.2f} s")

    n_batches = len(x_train) // args.batch_size  # the remainder of a shuffle is dropped
    if n_batches == 0:
        raise SystemExit(
            f"--batch-size {args.batch_size} is larger than the "
            f"{len(x_train)} training examples"
        )
    epoch_times, losses = [], []
    bar = tqdm(
        total=args.epochs * n_batches,
        unit="step",
        disable=args.no_progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    for epoch in range(1, args.epochs + 1):
        bar.set_description(f"epoch {epoch}/{args.epochs}")
        order = rng.permutation(len(x_train))
        epoch_start = time.perf_counter()
        total = 0.0
        for b in range(n_batches):
            idx = order[b * args.batch_size : (b + 1) * args.batch_size]
            total += float(train_step(x_train[idx], eye[data.y_train[idx]]))
            bar.update()
        epoch_times.append(time.perf_counter() - epoch_start)
        losses.append(total / n_batches)
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    bar.close()

    train_acc = accuracy(predict, x_train, data.y_train)
    test_acc = accuracy(predict, x_test, data.y_test)
    per_epoch = statistics.median(epoch_times)
    say(f"loss     {losses[0]:.4f} (epoch 1) -> {losses[-1]:.4f} (epoch {args.epochs})")
    say(
        f"accuracy train {train_acc:.2%}, test {test_acc:.2%} "
        f"({len(x_test)} test images)"
    )
    say(
        f"time     {per_epoch * 1e3:.1f} ms per epoch (median of {args.epochs}; "
        f"{n_batches} steps, {per_epoch / n_batches * 1e6:.0f} us per step)"
    )
    say(f"backend  {train_step.backend}")
    what = "C source" if train_step.backend == "c" else f"{train_step.backend} program"
    say(f"source   {source_path}  (the generated {what} of the train step)")
    return {
        "dataset": args.dataset,
        "backend": train_step.backend,
        "test_accuracy": test_acc,
        "train_accuracy": train_acc,
        "losses": losses,
        "epoch_times": epoch_times,
        "time_per_epoch": per_epoch,
        "compile_time": compile_s,
        "source_path": source_path,
        "args": vars(args),
    }


if __name__ == "__main__":  # pragma: no cover - exercised by tests in a subprocess
    try:
        main()
    except datasets.DatasetError as exc:  # missing or damaged data: say so, no trace
        sys.exit(f"python -m symgraph.demo: {exc}")
