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
class SharedOperand;

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

  // The same three products with B packed beforehand (SharedOperand), for any block of A: its
  // rows (a_b, a_bt: C's rows) or its columns (at_b: C's rows). Only A's block is packed here.
  // Every product takes Eigen's GEMM kernel, whatever its shape.
  void a_b(MatrixRef<S> C, const ConstMatrixRef<S>& A, const SharedOperand<S>& B);
  void a_bt(MatrixRef<S> C, const ConstMatrixRef<S>& A, const SharedOperand<S>& B);
  void at_b(MatrixRef<S> C, const ConstMatrixRef<S>& A, const SharedOperand<S>& B);

 private:
  // A product beyond the plan would overrun the blocks: it takes Eigen's allocating path instead
  // (never the case for the products a Trainer plans for).
  bool fits(Index m, Index n, Index k) const { return std::max({m, n, k}) <= max_dim_; }

  template <int RhsOrder>
  void shared_product(MatrixRef<S> C, const S* rhs, Index rhs_stride, Index cols,
                      const SharedOperand<S>& B);

  Index max_dim_ = 0;
  Index kc_ = 0, mc_ = 0, nc_ = 0;  // Eigen's cache blocking for max_dim products
  Vector<S> block_a_;               // (kc·mc) packed left operand
  Vector<S> block_b_;               // (kc·nc) packed right operand
};

// The B of many products C_j = A_j · B (or A_j · Bᵀ, A_jᵀ · B) that share it, packed once, in
// Eigen's layout and cache blocks (those of a GemmWorkspace(max_dim)), so that each product packs
// only its own block A_j (GemmWorkspace's shared-operand products). The trainer shares a layer's
// weights among the row blocks of a batch (forward C = A · W, backward C = dZ · Wᵀ) and a layer's
// deltas among the column blocks of its input (weight gradient dW = Aᵀ · dZ).
//
// Packing is split into items (pack_item), fixed by B's shape, that threads may share out; it
// copies, so how it is shared out changes no result. B must outlive the products.
template <class S>
class SharedOperand {
 public:
  SharedOperand() = default;
  // Plans for every B of at most max_size elements whose dimensions are <= max_dim.
  SharedOperand(Index max_dim, Index max_size);

  // Sets B for products of one kind (packing nothing yet).
  void set_for_a_b(const ConstMatrixRef<S>& B) { set(B, false); }
  void set_for_a_bt(const ConstMatrixRef<S>& B) { set(B, true); }
  void set_for_at_b(const ConstMatrixRef<S>& B) { set(B, false); }
  // Packing is cut into items: every cache block's rows in ranges of a few register panels.
  Index pack_items() const { return n_i2_ * n_k2_ * n_sub_; }
  void pack_item(Index item);  // packs one item of B (possibly none); all before any product
  Index pack_item_size(Index item) const;  // the elements pack_item(item) packs
  void set_none() { n_i2_ = n_k2_ = n_sub_ = 0; }  // no B: no items
  // Packs the part of B that B's rows [k0, k1) make (set_for_at_b only: the rows of a batch that
  // one row item computed), as pack_item would; the items' ranges together cover B's rows.
  void pack_rows(Index k0, Index k1);

 private:
  friend class GemmWorkspace<S>;
  void set(const ConstMatrixRef<S>& B, bool row_major_lhs);
  // Packs rows [r0, r0 + r) of L's block (i2, k2), depth [k0, k1) of it (PanelMode: the rest of
  // each register panel's depth is left as it is).
  template <bool PanelMode>
  void pack(Index i2, Index k2, Index r0, Index r, Index k0, Index k1);
  Index mc_of(Index i2) const { return std::min(mc_, rows_ - i2); }
  // Pack item `item`: rows [r0, r0 + r) of L's block (i2, k2); r <= 0 in the last, shorter block.
  struct ItemRows {
    Index i2, k2, r0, r;
  };
  ItemRows item_rows(Index item) const;
  // Where the (i2, k2) block, mc_of(i2) × min(kc, depth - k2), is packed: blocks follow each other
  // in (i2, k2) order, each starting at Eigen's alignment (its kernel loads them aligned).
  Index offset(Index i2, Index k2) const;

  static const Index kPackRows;  // rows an item: a few of Eigen's register panels (mr rows)

  Index kc_ = 0, mc_ = 0;  // Eigen's cache blocking for max_dim products (GemmWorkspace's)
  Vector<S> packed_;       // (max_size) the packed left operand, in (i2, k2) blocks
  // The products' left operand L (rows × depth): Bᵀ (B's data read column-major) or B itself.
  const S* data_ = nullptr;
  Index stride_ = 0, rows_ = 0, depth_ = 0;
  bool row_major_ = false;
  Index n_i2_ = 0, n_k2_ = 0, n_sub_ = 0;  // items: n_i2 · n_k2 · n_sub
};

}  // namespace fastnn
