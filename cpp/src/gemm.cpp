#include "fastnn/gemm.hpp"

#include <algorithm>

namespace fastnn {

namespace {

// Pins Eigen's cache sizes when the core is loaded, before any product (gemm.hpp).
const struct PinCacheSizes {
  PinCacheSizes() { set_gemm_cache_sizes(kPinnedCacheSizes); }
} pin_cache_sizes;

namespace ei = Eigen::internal;

// Eigen's blocking descriptor, pointed at buffers we own.
template <class S>
struct PlannedBlocking : ei::level3_blocking<S, S> {
  PlannedBlocking(S* block_a, S* block_b, Index kc, Index mc, Index nc) {
    this->m_blockA = block_a;
    this->m_blockB = block_b;
    this->m_kc = kc;
    this->m_mc = mc;
    this->m_nc = nc;
  }
};

// Products this small are cheapest coefficient by coefficient (Eigen's own threshold).
bool is_tiny(Index m, Index n, Index k) { return m + n + k < 20; }
bool is_vector(Index m, Index n) { return m == 1 || n == 1; }

// res (col-major rows×cols, leading dimension res_stride) = lhs (rows×depth) · rhs (depth×cols).
template <class S, int LhsOrder, int RhsOrder>
void kernel(S* res, Index res_stride, Index rows, Index cols, Index depth, const S* lhs,
            Index lhs_stride, const S* rhs, Index rhs_stride, S* block_a, S* block_b, Index kc,
            Index mc, Index nc) {
  Eigen::Map<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>, Eigen::Unaligned,
             Eigen::OuterStride<>>(res, rows, cols, Eigen::OuterStride<>(res_stride))
      .setZero();
  PlannedBlocking<S> blocking(block_a, block_b, kc, mc, nc);
  ei::general_matrix_matrix_product<Index, S, LhsOrder, false, S, RhsOrder, false,
                                    Eigen::ColMajor, 1>::run(rows, cols, depth, lhs, lhs_stride,
                                                             rhs, rhs_stride, res, 1, res_stride,
                                                             S(1), blocking, nullptr);
}

}  // namespace

CacheSizes gemm_cache_sizes() {
  return {Eigen::l1CacheSize(), Eigen::l2CacheSize(), Eigen::l3CacheSize()};
}

CacheSizes detected_cache_sizes() {
  int l1 = -1, l2 = -1, l3 = -1;
  ei::queryCacheSizes(l1, l2, l3);
  return {l1, l2, l3};
}

void set_gemm_cache_sizes(const CacheSizes& sizes) {
  Eigen::setCpuCacheSizes(sizes.l1, sizes.l2, sizes.l3);
}

template <class S>
GemmWorkspace<S>::GemmWorkspace(Index max_dim)
    : max_dim_(max_dim), kc_(max_dim), mc_(max_dim), nc_(max_dim) {
  ei::computeProductBlockingSizes<S, S, 1>(kc_, mc_, nc_, Index(1));
  block_a_.resize(kc_ * mc_);
  block_b_.resize(kc_ * nc_);
}

template <class S>
void GemmWorkspace<S>::a_b(MatrixRef<S> C, const ConstMatrixRef<S>& A,
                           const ConstMatrixRef<S>& B) {
  const Index m = A.rows(), k = A.cols(), n = B.cols();
  if (is_tiny(m, n, k)) {
    C.noalias() = A.lazyProduct(B);
  } else if (is_vector(m, n) || !fits(m, n, k)) {
    C.noalias() = A * B;
  } else {
    // Cᵀ (n×m) = Bᵀ (n×k, col-major) · Aᵀ (k×m, col-major)
    kernel<S, Eigen::ColMajor, Eigen::ColMajor>(C.data(), C.outerStride(), n, m, k, B.data(),
                                                B.outerStride(), A.data(), A.outerStride(),
                                                block_a_.data(), block_b_.data(), kc_, mc_, nc_);
  }
}

template <class S>
void GemmWorkspace<S>::at_b(MatrixRef<S> C, const ConstMatrixRef<S>& A,
                            const ConstMatrixRef<S>& B) {
  const Index k = A.rows(), m = A.cols(), n = B.cols();
  if (k == 1) {  // one row (single-sample SGD): a rank-1 update, vectorised along B's row
    C.noalias() = A.row(0).transpose() * B.row(0);
  } else if (is_tiny(m, n, k)) {
    C.noalias() = A.transpose().lazyProduct(B);
  } else if (is_vector(m, n) || !fits(m, n, k)) {
    C.noalias() = A.transpose() * B;
  } else {
    // Cᵀ (n×m) = Bᵀ (n×k, col-major) · A (k×m, row-major)
    kernel<S, Eigen::ColMajor, Eigen::RowMajor>(C.data(), C.outerStride(), n, m, k, B.data(),
                                                B.outerStride(), A.data(), A.outerStride(),
                                                block_a_.data(), block_b_.data(), kc_, mc_, nc_);
  }
}

template <class S>
void GemmWorkspace<S>::a_bt(MatrixRef<S> C, const ConstMatrixRef<S>& A,
                            const ConstMatrixRef<S>& B) {
  const Index m = A.rows(), k = A.cols(), n = B.rows();
  if (is_tiny(m, n, k)) {
    C.noalias() = A.lazyProduct(B.transpose());
  } else if (is_vector(m, n) || !fits(m, n, k)) {
    C.noalias() = A * B.transpose();
  } else {
    // Cᵀ (n×m) = B (n×k, row-major) · Aᵀ (k×m, col-major)
    kernel<S, Eigen::RowMajor, Eigen::ColMajor>(C.data(), C.outerStride(), n, m, k, B.data(),
                                                B.outerStride(), A.data(), A.outerStride(),
                                                block_a_.data(), block_b_.data(), kc_, mc_, nc_);
  }
}

template class GemmWorkspace<float>;
template class GemmWorkspace<double>;

}  // namespace fastnn
