#include "fastnn/gemm.hpp"

#include <algorithm>
#include <stdexcept>

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

template <class S>
template <int RhsOrder>
void GemmWorkspace<S>::shared_product(MatrixRef<S> C, const S* rhs, Index rhs_stride, Index cols,
                                      const SharedOperand<S>& B) {
  // Cᵀ (L's rows × cols, col-major) = L (packed) · R (depth × cols), as Eigen's GEMM driver
  // computes it: each result adds its cache blocks' partial sums in the order of k2.
  using Traits = ei::gebp_traits<S, S>;
  using RhsMapper = ei::const_blas_data_mapper<S, Index, RhsOrder>;
  using ResMapper = ei::blas_data_mapper<S, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
  if (B.kc_ > kc_) throw std::logic_error("a shared operand planned for larger products");
  ei::gemm_pack_rhs<S, Index, RhsMapper, Traits::nr, RhsOrder> pack_rhs;
  ei::gebp_kernel<S, S, Index, ResMapper, Traits::mr, Traits::nr, false, false> gebp;
  const Index rows = B.rows_, depth = B.depth_;
  Eigen::Map<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>, Eigen::Unaligned,
             Eigen::OuterStride<>>(C.data(), rows, cols, Eigen::OuterStride<>(C.outerStride()))
      .setZero();
  const RhsMapper R(rhs, rhs_stride);
  const ResMapper res(C.data(), C.outerStride());
  for (Index k2 = 0; k2 < depth; k2 += B.kc_) {
    const Index kc = std::min(B.kc_, depth - k2);
    for (Index j2 = 0; j2 < cols; j2 += nc_) {
      const Index nc = std::min(nc_, cols - j2);
      pack_rhs(block_b_.data(), R.getSubMapper(k2, j2), kc, nc);
      for (Index i2 = 0; i2 < rows; i2 += B.mc_) {
        gebp(res.getSubMapper(i2, j2), B.packed_.data() + B.offset(i2, k2), block_b_.data(),
             B.mc_of(i2), kc, nc, S(1));
      }
    }
  }
}

template <class S>
void GemmWorkspace<S>::a_b(MatrixRef<S> C, const ConstMatrixRef<S>& A, const SharedOperand<S>& B) {
  // Cᵀ (n×m) = Bᵀ (packed) · Aᵀ (k×m, col-major)
  shared_product<Eigen::ColMajor>(C, A.data(), A.outerStride(), A.rows(), B);
}

template <class S>
void GemmWorkspace<S>::a_bt(MatrixRef<S> C, const ConstMatrixRef<S>& A,
                            const SharedOperand<S>& B) {
  // Cᵀ (n×m) = B (packed) · Aᵀ (k×m, col-major)
  shared_product<Eigen::ColMajor>(C, A.data(), A.outerStride(), A.rows(), B);
}

template <class S>
void GemmWorkspace<S>::at_b(MatrixRef<S> C, const ConstMatrixRef<S>& A,
                            const SharedOperand<S>& B) {
  // Cᵀ (n×m) = Bᵀ (packed) · A (k×m, row-major)
  shared_product<Eigen::RowMajor>(C, A.data(), A.outerStride(), A.cols(), B);
}

namespace {
template <class S>
constexpr Index kAlign = EIGEN_MAX_ALIGN_BYTES / Index(sizeof(S));  // elements
Index round_up(Index n, Index m) { return (n + m - 1) / m * m; }
}  // namespace

template <class S>
const Index SharedOperand<S>::kPackRows = 4 * ei::gebp_traits<S, S>::mr;

template <class S>
SharedOperand<S>::SharedOperand(Index max_dim, Index max_size) : kc_(max_dim), mc_(max_dim) {
  Index nc = max_dim;
  ei::computeProductBlockingSizes<S, S, 1>(kc_, mc_, nc, Index(1));  // as GemmWorkspace's
  const Index n_blocks = (max_dim + mc_ - 1) / mc_ * ((max_dim + kc_ - 1) / kc_);
  packed_.resize(max_size + n_blocks * kAlign<S>);
}

template <class S>
Index SharedOperand<S>::offset(Index i2, Index k2) const {
  // Bands of mc rows: the full-kc blocks, then the last one.
  const Index last_kc = depth_ - (n_k2_ - 1) * kc_;
  const Index band = (n_k2_ - 1) * round_up(mc_ * kc_, kAlign<S>) +
                     round_up(mc_ * last_kc, kAlign<S>);
  return i2 / mc_ * band + k2 / kc_ * round_up(mc_of(i2) * kc_, kAlign<S>);
}

template <class S>
void SharedOperand<S>::set(const ConstMatrixRef<S>& B, bool row_major_lhs) {
  data_ = B.data();
  stride_ = B.outerStride();
  row_major_ = row_major_lhs;
  rows_ = row_major_lhs ? B.rows() : B.cols();
  depth_ = row_major_lhs ? B.cols() : B.rows();
  if (rows_ < 1 || depth_ < 1) throw std::logic_error("an empty shared operand");
  n_i2_ = (rows_ + mc_ - 1) / mc_;
  n_k2_ = (depth_ + kc_ - 1) / kc_;
  n_sub_ = (std::min(mc_, rows_) + kPackRows - 1) / kPackRows;
  const Index last_i2 = (n_i2_ - 1) * mc_, last_k2 = (n_k2_ - 1) * kc_;
  if (offset(last_i2, last_k2) + mc_of(last_i2) * (depth_ - last_k2) > packed_.size()) {
    throw std::logic_error("a shared operand larger than planned");
  }
}

template <class S>
template <bool PanelMode>
void SharedOperand<S>::pack(Index i2, Index k2, Index r0, Index r, Index k0, Index k1) {
  using Traits = ei::gebp_traits<S, S>;
  const Index kc = std::min(kc_, depth_ - k2);
  // Rows [r0, r0 + r) of the block: whole register panels (r0 is a multiple of mr), laid out as
  // packing the block at once lays them out.
  S* dst = packed_.data() + offset(i2, k2) + r0 * kc;
  const Index stride = PanelMode ? kc : 0, skip = PanelMode ? k0 - k2 : 0;
  if (row_major_) {
    using Mapper = ei::const_blas_data_mapper<S, Index, Eigen::RowMajor>;
    ei::gemm_pack_lhs<S, Index, Mapper, Traits::mr, Traits::LhsProgress,
                      typename Traits::LhsPacket4Packing, Eigen::RowMajor, false, PanelMode>
        pack;
    pack(dst, Mapper(data_, stride_).getSubMapper(i2 + r0, k0), k1 - k0, r, stride, skip);
  } else {
    using Mapper = ei::const_blas_data_mapper<S, Index, Eigen::ColMajor>;
    ei::gemm_pack_lhs<S, Index, Mapper, Traits::mr, Traits::LhsProgress,
                      typename Traits::LhsPacket4Packing, Eigen::ColMajor, false, PanelMode>
        pack;
    pack(dst, Mapper(data_, stride_).getSubMapper(i2 + r0, k0), k1 - k0, r, stride, skip);
  }
}

template <class S>
typename SharedOperand<S>::ItemRows SharedOperand<S>::item_rows(Index item) const {
  const Index k2 = (item / n_sub_) % n_k2_ * kc_, i2 = item / (n_sub_ * n_k2_) * mc_;
  const Index r0 = item % n_sub_ * kPackRows;
  return {i2, k2, r0, std::min(kPackRows, mc_of(i2) - r0)};
}

template <class S>
void SharedOperand<S>::pack_item(Index item) {
  const ItemRows it = item_rows(item);
  if (it.r <= 0) return;  // the last block is shorter
  pack<false>(it.i2, it.k2, it.r0, it.r, it.k2, std::min(it.k2 + kc_, depth_));
}

template <class S>
Index SharedOperand<S>::pack_item_size(Index item) const {
  const ItemRows it = item_rows(item);
  return std::max<Index>(0, it.r) * std::min(kc_, depth_ - it.k2);
}

template <class S>
void SharedOperand<S>::pack_rows(Index k0, Index k1) {
  // L = Bᵀ: B's rows are L's depth. Every block of L's rows, in the depth blocks [k0, k1) meets.
  for (Index k2 = k0 / kc_ * kc_; k2 < k1; k2 += kc_) {
    const Index a = std::max(k0, k2), b = std::min(k1, k2 + kc_);
    for (Index i2 = 0; i2 < rows_; i2 += mc_) pack<true>(i2, k2, 0, mc_of(i2), a, b);
  }
}

template class GemmWorkspace<float>;
template class GemmWorkspace<double>;
template class SharedOperand<float>;
template class SharedOperand<double>;

}  // namespace fastnn
