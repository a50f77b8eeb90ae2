#include "fastnn/ceiling.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "fastnn/gemm.hpp"
#include "fastnn/parallel.hpp"

namespace fastnn {

template <class S>
double gemm_gflops(Index m, Index k, Index n, int n_threads, int repeats, ProductForm form) {
  if (m < 1 || k < 1 || n < 1 || repeats < 1) {
    throw std::invalid_argument("gemm_gflops needs positive sizes and repeats");
  }
  const int threads = resolve_threads(n_threads);
  double seconds = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    // Operands stored as each form reads them: A (m, k) or (k, m); B (k, n) or (n, k).
    const bool at = form == ProductForm::at_b, bt = form == ProductForm::a_bt;
    RowMatrix<S> A = RowMatrix<S>::Random(at ? k : m, at ? m : k);
    RowMatrix<S> B = RowMatrix<S>::Random(bt ? n : k, bt ? k : n), C(m, n);
    GemmWorkspace<S> gemm(std::max({m, k, n}));
    MatrixMap<S> c(C.data(), m, n);
    const ConstMatrixMap<S> a(A.data(), A.rows(), A.cols()), b(B.data(), B.rows(), B.cols());
    const auto product = [&] {
      if (at) {
        gemm.at_b(c, a, b);
      } else if (bt) {
        gemm.a_bt(c, a, b);
      } else {
        gemm.a_b(c, a, b);
      }
    };
    product();  // warm
#pragma omp barrier
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < repeats; ++r) product();
#pragma omp barrier
#pragma omp master
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return 2.0 * double(m) * double(n) * double(k) * repeats * threads / seconds / 1e9;
}

template double gemm_gflops<float>(Index, Index, Index, int, int, ProductForm);
template double gemm_gflops<double>(Index, Index, Index, int, int, ProductForm);

}  // namespace fastnn
