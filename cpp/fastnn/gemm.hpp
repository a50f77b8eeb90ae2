#pragma once
// Matrix products into planned memory.
//
// Eigen's GEMM packs its operands into cache-sized blocks; when a product's blocks exceed Eigen's
// stack limit (128 KB) it heap-allocates them on every call. A GemmWorkspace owns those blocks,
// sized once for the largest product of a fit, and calls Eigen's GEMM kernel with them, so the
// training loop allocates nothing. Tiny and vector-shaped products take Eigen's ordinary paths
// (coefficient-based / GEMV), which do not touch the heap either.
//
// Eigen sizes those blocks from the CPU's cache sizes (cpuid), and the depth of a block (kc)
// decides how the terms of every dot product are grouped before they are summed: the same binary
// would round differently on a CPU with a 48 KiB L1 (Ice Lake, Zen 5) and one with 32 KiB
// (Skylake, Zen 4). Every core therefore pins one set of cache sizes when it is loaded (see
// kPinnedCacheSizes), so a build gives the same bits on every machine that runs it.
//
// All matrices are row-major. Eigen's kernel writes a column-major result, so each product is
// computed as its transpose: C = A·B  <=>  Cᵀ = Bᵀ·Aᵀ, with Cᵀ column-major being C row-major.
#include <algorithm>

#include "fastnn/types.hpp"

namespace fastnn {

// Cache sizes in bytes, as Eigen's GEMM blocking reads them.
struct CacheSizes {
  Index l1 = 0, l2 = 0, l3 = 0;
};

// What every core tells Eigen, whatever the CPU: Eigen's own x86 defaults for L1 (32 KiB, the
// L1d of most x86 CPUs, so a block never overflows it) and a 1 MiB L2 and 32 MiB L3.
inline constexpr CacheSizes kPinnedCacheSizes{32 * 1024, 1024 * 1024, 32 * 1024 * 1024};

// The cache sizes Eigen's blocking uses now (kPinnedCacheSizes once a core is loaded).
CacheSizes gemm_cache_sizes();
// What this CPU reports (Eigen's cpuid query), which the blocking ignores.
CacheSizes detected_cache_sizes();
// For tests only: make Eigen's blocking use `sizes`, as on a CPU that reports them, to show that
// the bits depend on them. Plans made afterwards (GemmWorkspace) follow; restore with
// kPinnedCacheSizes.
void set_gemm_cache_sizes(const CacheSizes& sizes);

template <class S>
class GemmWorkspace {
 public:
  GemmWorkspace() = default;
  // Plans for every product whose three dimensions are all <= max_dim.
  explicit GemmWorkspace(Index max_dim);

  // Any operand may be a block of columns of a wider matrix (a row stride).
  // C = A · B      A: (m, k)  B: (k, n)  C: (m, n)
  void a_b(MatrixRef<S> C, const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& B);
  // C = Aᵀ · B     A: (k, m)  B: (k, n)  C: (m, n)
  void at_b(MatrixRef<S> C, const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& B);
  // C = A · Bᵀ     A: (m, k)  B: (n, k)  C: (m, n)
  void a_bt(MatrixRef<S> C, const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& B);

 private:
  // A product beyond the plan would overrun the blocks: it takes Eigen's allocating path instead
  // (never the case for the products a Trainer plans for).
  bool fits(Index m, Index n, Index k) const { return std::max({m, n, k}) <= max_dim_; }

  Index max_dim_ = 0;
  Index kc_ = 0, mc_ = 0, nc_ = 0;  // Eigen's cache blocking for max_dim products
  Vector<S> block_a_;               // (kc·mc) packed left operand
  Vector<S> block_b_;               // (kc·nc) packed right operand
};

}  // namespace fastnn
