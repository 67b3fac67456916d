"""Calling the compiled segments from Python: the program behind a Function.

The fast path (a function whose whole graph is native) is a few lines of
Python generated per function: it checks that each argument is an ndarray,
allocates the outputs at their predicted shapes, and passes the *addresses*
of the array objects (``id``) to ``sg_call0``, whose C reads NumPy's array
struct and checks dtype, ndim, shapes and layout itself. Measured on the
development machine, per array: ``id(a)`` plus passing an ``intptr_t``
costs ~0.08 us, against ~0.2-0.3 us for ``ffi.from_buffer`` (which also
refuses non-contiguous arrays) and ~1 us for ``a.ctypes.data`` or
``a.__array_interface__``. With one ``np.empty`` for the output and the
cffi call itself (~0.15 us), ``f(x)`` for ``x + 1`` takes ~0.8-0.9 us from
Python on a float64 scalar or a 10-vector.

Anything unusual (lists, wrong dtypes, non-native byte order, a busy state in
another thread, an error) takes the general path: the Function's argument
checker converts or explains, then every step runs with full error reports.
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import prelude

_ND = np.ndarray


# ------------------------------------------------------------- NumPy layout
def _probe_layout() -> dict | None:
    """Offsets of NumPy's array fields, verified on live arrays, or None."""
    head = object.__basicsize__  # PyObject_HEAD
    lay = {
        "data": head,
        "nd": head + 8,
        "dims": head + 16,
        "strides": head + 24,
        "descr": head + 40,
        "flags": head + 48,
        "typenum": head + 12,
        "byteorder": head + 10,
    }
    if ctypes.sizeof(ctypes.c_void_p) != 8 or np.dtype(np.intp).itemsize != 8:
        return None
    try:
        samples = [
            np.arange(6.0).reshape(2, 3).T,
            np.zeros((), dtype=">i4"),
            np.arange(5, dtype=np.int8)[::-2],
            np.ones((1, 0, 3), dtype=np.float32),
        ]
        for a in samples:
            p = id(a)

            def at(off, ctype, base=p):
                return ctype.from_address(base + off).value

            if at(lay["data"], ctypes.c_size_t) != a.__array_interface__["data"][0]:
                return None
            if at(lay["nd"], ctypes.c_int) != a.ndim:
                return None
            dims = at(lay["dims"], ctypes.c_size_t)
            strides = at(lay["strides"], ctypes.c_size_t)
            for d in range(a.ndim):
                if ctypes.c_int64.from_address(dims + 8 * d).value != a.shape[d]:
                    return None
                if ctypes.c_int64.from_address(strides + 8 * d).value != a.strides[d]:
                    return None
            descr = at(lay["descr"], ctypes.c_size_t)
            if descr != id(a.dtype):
                return None
            if ctypes.c_int.from_address(descr + lay["typenum"]).value != a.dtype.num:
                return None
            order = ctypes.c_char.from_address(descr + lay["byteorder"]).value
            if order != a.dtype.byteorder.encode():
                return None
            if bool(at(lay["flags"], ctypes.c_int) & 0x100) != a.flags.aligned:
                return None
    except Exception:  # pragma: no cover - exotic interpreters
        return None
    return lay


NUMPY_LAYOUT = _probe_layout()


def native(value: np.ndarray) -> np.ndarray:
    """``value`` with native byte order and aligned (a copy if needed)."""
    if value.dtype.isnative and value.flags.aligned:
        return value
    return np.array(value, dtype=value.dtype.newbyteorder("="))


class Segment:
    """One compiled segment: its entry points and what it reads and writes."""

    def __init__(
        self, k, lib, in_cells, out_cells, out_dtypes, out_ndims, predictions, out_base
    ):
        self.k = k
        self.call = getattr(lib, f"sg_call{k}")
        self.run = getattr(lib, f"sg_run{k}")
        self.in_cells = in_cells
        self.out_cells = out_cells
        self.out_dtypes = [np.dtype(d) for d in out_dtypes]
        self.out_ndims = out_ndims
        #: per output: the shape as Python over cells ``c[i]``, or None
        self.prediction_text = predictions
        self.predictions = [
            eval(f"lambda c: {p}") if p is not None else None  # noqa: S307 - our own text
            for p in predictions
        ]
        self.out_base = out_base


class Compiled:
    """What one graph compiles to; shared by every Function of that graph."""

    def __init__(
        self,
        *,
        lib,
        ffi,
        source,
        source_path,
        steps,
        n_cells,
        input_cells,
        const_cells,
        output_cells,
        templates,
        out_maxdim,
        single,
    ):
        self.lib = lib
        self.ffi = ffi
        self.source = source
        self.source_path = source_path
        self.steps = (
            steps  # [("c", Segment) | ("py", node_position, in_cells, out_cells)]
        )
        self.n_cells = n_cells
        self.input_cells = input_cells
        self.const_cells = const_cells  # [(cell, ndarray)]
        self.output_cells = output_cells
        self.templates = templates
        self.out_maxdim = out_maxdim
        self.single = single  # one native segment reading the inputs in order
        # per cell: ("in", i) | ("node", position, j) | ("const", var)
        self.locs: list = []

    def cell_var(self, fgraph, cell):
        """The variable held in ``cell``, in ``fgraph`` (errors name it)."""
        loc = self.locs[cell]
        if loc[0] == "in":
            return fgraph.inputs[loc[1]]
        if loc[0] == "node":
            return fgraph.toposort()[loc[1]].outputs[loc[2]]
        return loc[1]


class CProgram:
    """The program of the C backend (see ``symgraph.compile.backends``)."""

    backend = "c"

    def __init__(self, fgraph, compiled: Compiled, name=None) -> None:
        self.fgraph = fgraph
        self.compiled = compiled
        self.name = name
        self.ffi = compiled.ffi
        self.lib = compiled.lib
        self.state = self._new_state()
        self.fast_call = None

    @property
    def source(self) -> str:
        return self.compiled.source

    @property
    def source_path(self):
        return self.compiled.source_path

    def _new_state(self):
        state = self.lib.sg_new_state()
        if state == self.ffi.NULL:
            raise MemoryError("symgraph: cannot allocate the state of a C function")
        return self.ffi.gc(state, self.lib.sg_free_state)

    # ------------------------------------------------------------------ bind
    def bind(self, function) -> None:
        self.function = function
        self.shared = list(function.shared_inputs)
        self.n_outputs = function.n_outputs
        self.updated = list(function.updated)
        if self.compiled.single and NUMPY_LAYOUT is not None:
            from .glue import make_fast_call

            self.fast_call = make_fast_call(self, function)

    # ------------------------------------------------------------------- run
    def run(self, args) -> list[np.ndarray]:
        """Outputs then update values (Function assigns the updates)."""
        values = self.function.check_arguments(args)
        cells: list = [None] * self.compiled.n_cells
        for cell, value in zip(self.compiled.input_cells, values, strict=False):
            cells[cell] = native(value)
        for cell, var in zip(
            self.compiled.input_cells[len(values) :], self.shared, strict=False
        ):
            cells[cell] = native(var._value)
        for cell, data in self.compiled.const_cells:
            cells[cell] = data
        nodes = None
        for step in self.compiled.steps:
            if step[0] == "c":
                self._run_segment(step[1], cells)
            else:
                if nodes is None:
                    nodes = self.fgraph.toposort()
                self._run_python(nodes[step[1]], step[2], step[3], cells)
        result, seen = [], set()
        fresh = {
            cell
            for step in self.compiled.steps
            if step[0] == "c"
            for cell in step[1].out_cells
        }
        for cell in self.compiled.output_cells:
            value = cells[cell]
            # C's outputs are new memory (a view when C allocated it); the
            # rest (inputs, shared values, Python ops' results) are copied.
            if cell in seen or cell not in fresh:
                value = np.array(value, copy=True)
            seen.add(cell)
            result.append(value)
        return result

    def finish_fresh(self, seg: Segment, outs: list, state) -> list:
        """After ``SG_FRESH``: adopt the outputs that C allocated.

        The state stays busy until then (another thread would reuse its
        record of them); this releases it.
        """
        try:
            return self._adopt(seg, outs, self.lib.sg_info(state))
        finally:
            self.lib.sg_release(state)

    def _adopt(self, seg: Segment, outs: list, info) -> list:
        ffi = self.ffi
        width = 2 + self.compiled.out_maxdim
        result = []
        for k, (arr, dtype, nd) in enumerate(
            zip(outs, seg.out_dtypes, seg.out_ndims, strict=False)
        ):
            base = prelude.INFO_LEN + (seg.out_base + k) * width
            ptr = info[base]
            if not ptr:
                result.append(arr)
                continue
            info[base] = 0
            shape = tuple(info[base + 2 + d] for d in range(nd))
            owner = ffi.gc(ffi.cast("char *", ptr), self.lib.sg_free)
            buf = ffi.buffer(owner, info[base + 1])
            result.append(np.frombuffer(buf, dtype=dtype).reshape(shape))
        return result

    def _run_segment(self, seg: Segment, cells: list) -> None:
        ins = [cells[c] for c in seg.in_cells]
        outs = []
        for pred, dtype in zip(seg.predictions, seg.out_dtypes, strict=False):
            try:  # a wrong guess only costs an allocation in C
                outs.append(np.empty(pred(cells), dtype) if pred is not None else None)
            except Exception:
                outs.append(None)
        state = self.state
        rc = self._call(seg, state, ins, outs)
        if rc == prelude.SG_BUSY:  # another thread is in this function
            state = self._new_state()
            rc = self._call(seg, state, ins, outs)
        if rc == prelude.SG_FRESH:
            outs = self.finish_fresh(seg, outs, state)
        elif rc != prelude.SG_OK:
            raise self.error(seg, self.lib.sg_info(state), ins)
        for cell, value in zip(seg.out_cells, outs, strict=False):
            cells[cell] = value

    def _call(self, seg, state, ins, outs) -> int:
        if NUMPY_LAYOUT is not None:
            ids = [id(a) for a in ins] + [id(o) if o is not None else 0 for o in outs]
            return seg.call(state, *ids)
        ffi = self.ffi
        arrays = ffi.new("sg_array[]", max(len(ins) + len(outs), 1))
        keep = []
        for i, a in enumerate(ins + outs):
            if a is None:
                arrays[i].present = 0
                continue
            shape = ffi.new("int64_t[]", list(a.shape) or [0])
            strides = ffi.new("int64_t[]", list(a.strides) or [0])
            keep += [shape, strides]
            arrays[i].data = ffi.cast("char *", a.__array_interface__["data"][0])
            arrays[i].shape, arrays[i].strides = shape, strides
            arrays[i].ndim, arrays[i].type = a.ndim, a.dtype.num
            arrays[i].layout_ok = int(a.dtype.isnative and a.flags.aligned)
            arrays[i].writeable = int(a.flags.writeable)
            arrays[i].present = 1
        return seg.run(state, arrays)

    def _run_python(self, node, in_cells, out_cells, cells) -> None:
        from symgraph.compile.python_backend import _check_output, _node_error

        storage = [[None] for _ in out_cells]
        try:
            node.op.perform(node, [cells[c] for c in in_cells], storage)
        except Exception as exc:
            raise _node_error(node, exc) from exc
        for cell, (value,), var in zip(out_cells, storage, node.outputs, strict=False):
            cells[cell] = native(_check_output(node, var, value))

    # ---------------------------------------------------------------- errors
    def error(self, seg, info, ins) -> Exception:
        from .errors import make_error

        return make_error(self, seg, [info[i] for i in range(8)], ins)
