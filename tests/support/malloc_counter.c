// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc) in the
// process it is LD_PRELOADed into; alloc_count() reads the counter. Used by
// tests/test_no_allocation.py.
#define _GNU_SOURCE
#include <stddef.h>
#include <stdatomic.h>
extern void* __libc_malloc(size_t);
extern void* __libc_memalign(size_t, size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
static atomic_long n_alloc;
long alloc_count(void) { return atomic_load(&n_alloc); }
void* malloc(size_t s) { atomic_fetch_add(&n_alloc, 1); return __libc_malloc(s); }
void* calloc(size_t a, size_t b) { atomic_fetch_add(&n_alloc, 1); return __libc_calloc(a, b); }
void* realloc(void* p, size_t s) { atomic_fetch_add(&n_alloc, 1); return __libc_realloc(p, s); }
int posix_memalign(void** p, size_t a, size_t s) { atomic_fetch_add(&n_alloc, 1); *p = __libc_memalign(a, s); return *p ? 0 : 12; }
void* aligned_alloc(size_t a, size_t s) { atomic_fetch_add(&n_alloc, 1); return __libc_memalign(a, s); }
