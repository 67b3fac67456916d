"""The fixed C text at the top of every generated translation unit.

It holds what every segment function needs and no graph-specific code: the
``sg_array`` argument descriptor (a pointer, shape and byte strides), the
per-function state (scratch slots, error details, outputs allocated in C),
argument checks, and the reader of NumPy's array struct used by the fast
call path.

Error protocol: every generated function returns ``SG_OK`` (0) or a code;
details go to ``st->info`` (an int64 array that Python reads, see
``runtime.py``): ``info[0]`` the error kind, ``info[1]`` the node or argument
index, ``info[2:8]`` numbers the message shows.
"""

from __future__ import annotations

# Error kinds (info[0]); runtime.py turns each into a Python exception.
E_DTYPE, E_NDIM, E_LAYOUT, E_STATIC_SHAPE = 1, 2, 3, 4  # bad argument (slow path)
E_BROADCAST, E_ALLOC, E_SIZE, E_OP = 5, 6, 7, 8
ARG_ERRORS = (E_DTYPE, E_NDIM, E_LAYOUT, E_STATIC_SHAPE)

# Return codes.
SG_OK, SG_BAD_ARG, SG_ERROR, SG_BUSY, SG_FRESH = 0, 1, 2, 3, 4

INFO_LEN = 16  # info[0:16]: the error; then the outputs allocated in C

PRELUDE = r"""
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One argument: data pointer, shape and strides in bytes, as NumPy has them. */
typedef struct {
    char *data;
    const int64_t *shape;
    const int64_t *strides;
    int32_t ndim;
    int32_t type;      /* NumPy type number */
    int32_t layout_ok; /* native byte order and aligned */
    int32_t present;   /* 0: no array passed (an output C must allocate) */
    int32_t writeable;
} sg_array;

enum { SG_OK = 0, SG_BAD_ARG = 1, SG_ERROR = 2, SG_BUSY = 3, SG_FRESH = 4 };
enum {
    SG_E_DTYPE = 1, SG_E_NDIM = 2, SG_E_LAYOUT = 3, SG_E_STATIC_SHAPE = 4,
    SG_E_BROADCAST = 5, SG_E_ALLOC = 6, SG_E_SIZE = 7, SG_E_OP = 8
};
#define SG_INFO_LEN 16
#define SG_ALIGN 64
#define SG_ALIGN_OUT_MIN (1 << 20) /* bytes; see sg_output */

/* A segment's driver (argument checks, shapes, buffers, calls into the loop
   kernels and BLAS) and the helpers it calls once (BLAS wrappers) run once
   per call: GCC builds them at -O1, which halves their build time, while the
   loop kernels keep -O2. Loops written there carry '#pragma omp simd', which
   vectorises them at -O1 too, except the rarely taken strided copies before
   BLAS calls. The backend builds the drivers of a big unit that holds no
   loop at -O0 (-DSG_DRIVER_LEVEL="O0"): as fast to run, cheaper to build.
   The runtime calls below (argument checks, outputs, scratch, errors, the
   parallel loop) follow the driver's level: at -O2 they were a fifth of a
   big unit's compile time (the MLP step: 0.12 of 0.64 s of CPU). */
#ifndef SG_DRIVER_LEVEL
#define SG_DRIVER_LEVEL "O1"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define SG_DRIVER __attribute__((optimize(SG_DRIVER_LEVEL)))
#define SG_HELPER __attribute__((optimize("O1")))
#else
#define SG_DRIVER
#define SG_HELPER
#endif

/* Scratch slots live between calls: a slot grows when an input shape needs
   more room and is reused as is otherwise. */
typedef struct sg_state {
    int busy;
    int fresh; /* an output was allocated here (Python takes it over) */
    void *slot[SG_NSLOTS];
    size_t slot_size[SG_NSLOTS];
    /* info[0..15]: error; then (pointer, bytes, shape...) per output. */
    int64_t info[SG_INFO_LEN + SG_NOUT * (2 + SG_OUT_MAXDIM)];
} sg_state;

sg_state *sg_new_state(void)
{
    return (sg_state *)calloc(1, sizeof(sg_state));
}

void sg_free_state(sg_state *st)
{
    if (!st)
        return;
    for (int k = 0; k < SG_NSLOTS; k++)
        free(st->slot[k]);
    free(st);
}

int64_t *sg_info(sg_state *st)
{
    return st->info;
}

void sg_free(void *p)
{
    free(p);
}

SG_DRIVER
static inline int sg_fail(sg_state *st, int64_t kind, int64_t where, int64_t a,
                   int64_t b, int64_t c, int64_t d, int64_t e, int64_t f)
{
    st->info[0] = kind;
    st->info[1] = where;
    st->info[2] = a;
    st->info[3] = b;
    st->info[4] = c;
    st->info[5] = d;
    st->info[6] = e;
    st->info[7] = f;
    return kind <= SG_E_STATIC_SHAPE ? SG_BAD_ARG : SG_ERROR;
}

static inline void *sg_malloc(size_t nbytes)
{
    size_t rounded = (nbytes + SG_ALIGN - 1) / SG_ALIGN * SG_ALIGN;
    return aligned_alloc(SG_ALIGN, rounded ? rounded : SG_ALIGN);
}

/* Number of elements of a shape, or -1 on overflow of the byte size. */
static inline int64_t sg_size(int nd, const int64_t *shape, int64_t itemsize)
{
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        if (shape[d] < 0 || __builtin_mul_overflow(n, shape[d], &n))
            return -1;
    int64_t bytes;
    if (__builtin_mul_overflow(n, itemsize, &bytes))
        return -1;
    return n;
}

/* Scratch buffer for an intermediate of `node`: slot `k` grown as needed. */
SG_DRIVER
static inline void *sg_scratch(sg_state *st, int k, int node, int nd,
                        const int64_t *shape, int64_t itemsize)
{
    int64_t n = sg_size(nd, shape, itemsize);
    if (n < 0) {
        sg_fail(st, SG_E_SIZE, node, nd, nd > 0 ? shape[0] : 0, nd > 1 ? shape[1] : 0,
                nd > 2 ? shape[2] : 0, itemsize, 0);
        return NULL;
    }
    size_t bytes = (size_t)n * (size_t)itemsize;
    if (bytes > st->slot_size[k] || !st->slot[k]) {
        free(st->slot[k]);
        st->slot_size[k] = 0;
        st->slot[k] = sg_malloc(bytes);
        if (!st->slot[k]) {
            sg_fail(st, SG_E_ALLOC, node, (int64_t)bytes, 0, 0, 0, 0, 0);
            return NULL;
        }
        st->slot_size[k] = bytes;
    }
    return st->slot[k];
}

/* Output `k`: the array Python passed when its shape is right, else a new
   buffer that Python takes over (pointer and size in info). A big array that
   is not 64-byte aligned is refused too: NumPy's buffers start 16 bytes into
   a page, so every 64-byte store of a vectorised loop or BLAS kernel would
   straddle two cache lines (1024^3 sgemm: 3% slower). Python offers the
   aligned buffer again once the caller has dropped it. */
SG_DRIVER
static inline void *sg_output(sg_state *st, const sg_array *a, int k, int node,
                       int type, int alias, int nd, const int64_t *shape,
                       int64_t itemsize)
{
    int64_t n = sg_size(nd, shape, itemsize);
    if (n < 0) {
        sg_fail(st, SG_E_SIZE, node, nd, nd > 0 ? shape[0] : 0, nd > 1 ? shape[1] : 0,
                nd > 2 ? shape[2] : 0, itemsize, 0);
        return NULL;
    }
    if (a->present && a->ndim == nd && a->writeable && a->layout_ok
        && (a->type == type || a->type == alias)
        && ((uintptr_t)a->data % SG_ALIGN == 0 || n * itemsize < SG_ALIGN_OUT_MIN)) {
        /* the array Python passed, if it has this dtype (a caller may have
           relabelled it in place) and shape and is C-contiguous */
        int same = 1;
        int64_t stride = itemsize;
        for (int d = nd - 1; d >= 0; d--) {
            same &= a->shape[d] == shape[d];
            same &= shape[d] <= 1 || a->strides[d] == stride;
            stride *= shape[d];
        }
        if (same)
            return a->data;
    }
    int64_t *out = st->info + SG_INFO_LEN + k * (2 + SG_OUT_MAXDIM);
    void *p = sg_malloc((size_t)n * (size_t)itemsize);
    if (!p) {
        sg_fail(st, SG_E_ALLOC, node, n * itemsize, 0, 0, 0, 0, 0);
        return NULL;
    }
    st->fresh = 1;
    out[0] = (int64_t)(intptr_t)p;
    out[1] = n * itemsize;
    for (int d = 0; d < nd; d++)
        out[2 + d] = shape[d];
    return p;
}

/* Check argument `pos` (dtype, ndim, layout) and fill element strides. */
SG_DRIVER
static inline int sg_arg(sg_state *st, const sg_array *a, int pos, int type, int alias,
                  int nd, int64_t itemsize, int64_t *strides)
{
    if (a->type != type && a->type != alias)
        return sg_fail(st, SG_E_DTYPE, pos, a->type, type, 0, 0, 0, 0);
    if (a->ndim != nd)
        return sg_fail(st, SG_E_NDIM, pos, a->ndim, nd, 0, 0, 0, 0);
    if (!a->layout_ok)
        return sg_fail(st, SG_E_LAYOUT, pos, -1, 0, 0, 0, 0, 0);
    for (int d = 0; d < nd; d++) {
        if (a->shape[d] > 1 && a->strides[d] % itemsize)
            return sg_fail(st, SG_E_LAYOUT, pos, d, a->strides[d], 0, 0, 0, 0);
        strides[d] = a->shape[d] > 1 ? a->strides[d] / itemsize : 0;
    }
    return SG_OK;
}

/* Reading a NumPy array without the Python C-API. The offsets are those of
   NumPy's PyArrayObject_fields and PyArray_Descr, part of NumPy's ABI (the
   PyArray_DATA-style macros of every compiled extension read them).
   runtime.py measures them at import and verifies them on a live array; if
   they do not match, Python fills sg_array itself and this is not used. */
static inline void sg_from_numpy(intptr_t obj, sg_array *a)
{
    const char *p = (const char *)obj;
    if (!p) {
        a->present = 0;
        a->data = NULL;
        a->ndim = -1;
        return;
    }
    const char *descr = *(char *const *)(p + SG_NP_DESCR);
    int flags = *(const int *)(p + SG_NP_FLAGS);
    a->data = *(char *const *)(p + SG_NP_DATA);
    a->ndim = *(const int *)(p + SG_NP_ND);
    a->shape = *(const int64_t *const *)(p + SG_NP_DIMS);
    a->strides = *(const int64_t *const *)(p + SG_NP_STRIDES);
    a->type = *(const int *)(descr + SG_NP_TYPENUM);
    a->layout_ok = descr[SG_NP_BYTEORDER] != '>' && (flags & SG_NP_ALIGNED);
    a->writeable = (flags & SG_NP_WRITEABLE) != 0;
    a->present = 1;
}

/* Run kernel(args, lo, hi, part) over [0, n) on all cores, in contiguous
   chunks (multiples of 16 elements); part points to each thread's slot of
   parts (partial results). Returns the number of threads, for combining. */
#define SG_MAX_THREADS 64
typedef void (*sg_kernel)(const void *, int64_t, int64_t, void *);
#ifdef _OPENMP
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
#endif

SG_DRIVER
static inline int sg_parallel(sg_kernel kernel, const void *args, int64_t n,
                              void *parts, size_t part_size)
{
#ifdef _OPENMP
    int nt = omp_get_max_threads();
    int used = 1;
    if (nt > SG_MAX_THREADS)
        nt = SG_MAX_THREADS;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), k = omp_get_num_threads();
        int64_t chunk = ((n + k - 1) / k + 15) / 16 * 16;
        int64_t lo = t * chunk < n ? t * chunk : n;
        int64_t hi = lo + chunk < n ? lo + chunk : n;
        if (t == 0)
            used = k;
        kernel(args, lo, hi, parts ? (char *)parts + (size_t)t * part_size : NULL);
    }
    return used;
#else
    (void)part_size;
    kernel(args, 0, n, parts);
    return 1;
#endif
}

static inline int sg_enter(sg_state *st)
{
    if (__atomic_exchange_n(&st->busy, 1, __ATOMIC_ACQUIRE))
        return SG_BUSY;
    st->fresh = 0;
    for (int k = 0; k < SG_NOUT; k++)
        st->info[SG_INFO_LEN + k * (2 + SG_OUT_MAXDIM)] = 0;
    return SG_OK;
}

static inline int sg_leave(sg_state *st, int rc)
{
    if (rc != SG_OK) /* free outputs allocated before the error */
        for (int k = 0; k < SG_NOUT; k++) {
            int64_t *out = st->info + SG_INFO_LEN + k * (2 + SG_OUT_MAXDIM);
            free((void *)(intptr_t)out[0]);
            out[0] = 0;
        }
    if (rc == SG_OK && st->fresh)
        return SG_FRESH; /* still busy: Python adopts the outputs, then sg_release */
    __atomic_store_n(&st->busy, 0, __ATOMIC_RELEASE);
    return rc;
}

void sg_release(sg_state *st)
{
    __atomic_store_n(&st->busy, 0, __ATOMIC_RELEASE);
}
"""

CDEF = """
typedef struct {
    char *data;
    const int64_t *shape;
    const int64_t *strides;
    int32_t ndim;
    int32_t type;
    int32_t layout_ok;
    int32_t present;
    int32_t writeable;
} sg_array;
typedef struct sg_state sg_state;
sg_state *sg_new_state(void);
void sg_free_state(sg_state *);
int64_t *sg_info(sg_state *);
void sg_free(void *);
void sg_release(sg_state *);
"""
