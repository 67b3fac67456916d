"""Collect the public functions of the op families that are present."""

from __future__ import annotations

import importlib

FAMILIES = (
    "symgraph.ops.math",
    "symgraph.ops.reduce",
    "symgraph.ops.shape",
    "symgraph.ops.creation",
    "symgraph.ops.join",
    "symgraph.ops.subtensor",
    "symgraph.ops.linalg",
    "symgraph.ops.nnet",
)


def load() -> dict:
    names = {}
    for module_name in FAMILIES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for name in getattr(module, "__all__", ()):
            names[name] = getattr(module, name)
    return names
