"""The C backend: whole-graph C generation, cffi build, disk cache, fast calls.

``sg.function(..., backend="c")`` (the default where a C compiler works)
lowers the rewritten graph to one C translation unit (``f.source``), builds
it with the cached ``gcc -shared`` + ``ffi.dlopen`` of :mod:`.build`, and
calls it through a per-function fast path. Modules:

- :mod:`.backend`: planning (native segments, Python steps), graph cache;
- :mod:`.lower` and ``lower_*``: lowering rules per op class (``c_<OpName>``);
- :mod:`.scalar_table`: the C expression of every scalar op;
- :mod:`.render`, :mod:`.unit`, :mod:`.loops`: the renderer;
- :mod:`.memplan`: scratch buffers; :mod:`.prelude`: the fixed C runtime;
- :mod:`.runtime`, :mod:`.glue`, :mod:`.errors`: calling it from Python;
- :mod:`.build`, :mod:`.diskcache`, :mod:`.toolchain`, :mod:`.blas`: the
  native build layer.
"""
