"""Run-time configuration: ``floatX``, default backend, cache location, flags.

Values come from defaults, then from the environment variable
``SYMGRAPH_FLAGS`` (Theano's ``THEANO_FLAGS`` format: ``floatX=float32,
backend=python``), then from assignments such as ``sg.config.floatX =
"float32"``.

Example
-------
>>> import symgraph as sg
>>> sg.config.floatX
'float64'
"""

from __future__ import annotations

import os

_FLOAT_TYPES = ("float32", "float64")
_BACKENDS = ("auto", "c", "python", "cuda")
_OPTIMIZERS = ("fast_run", "fast_compile", "none")


class Config:
    """The settings object, ``sg.config``; assignments are validated."""

    def __init__(self) -> None:
        self.floatX = "float64"
        self.backend = "auto"
        self.optimizer = "fast_run"
        self.compute_test_value = "off"
        self._apply_flags(os.environ.get("SYMGRAPH_FLAGS", ""))

    def __setattr__(self, name: str, value) -> None:
        if name == "floatX" and value not in _FLOAT_TYPES:
            raise ValueError(
                f"config.floatX must be one of {_FLOAT_TYPES}, got {value!r}"
            )
        if name == "backend" and value not in _BACKENDS:
            raise ValueError(
                f"config.backend must be one of {_BACKENDS}, got {value!r}"
            )
        if name == "optimizer" and value not in _OPTIMIZERS:
            raise ValueError(
                f"config.optimizer must be one of {_OPTIMIZERS}, got {value!r}"
            )
        object.__setattr__(self, name, value)

    def _apply_flags(self, flags: str) -> None:
        for item in filter(None, (part.strip() for part in flags.split(","))):
            key, sep, value = item.partition("=")
            if not sep or not hasattr(self, key.strip()):
                raise ValueError(
                    f"SYMGRAPH_FLAGS: cannot understand {item!r}; expected "
                    "name=value with name one of floatX, backend, optimizer"
                )
            setattr(self, key.strip(), value.strip())

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"Config({items})"


config = Config()
