#include "fastnn/ceiling.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "fastnn/gemm.hpp"
#include "fastnn/parallel.hpp"

namespace fastnn {

template <class S>
double gemm_gflops(Index m, Index k, Index n, int n_threads, int repeats) {
  if (m < 1 || k < 1 || n < 1 || repeats < 1) {
    throw std::invalid_argument("gemm_gflops needs positive sizes and repeats");
  }
  const int threads = resolve_threads(n_threads);
  double seconds = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    RowMatrix<S> A = RowMatrix<S>::Random(m, k), B = RowMatrix<S>::Random(k, n), C(m, n);
    GemmWorkspace<S> gemm(std::max({m, k, n}));
    MatrixMap<S> c(C.data(), m, n);
    gemm.a_b(c, ConstMatrixMap<S>(A.data(), m, k), ConstMatrixMap<S>(B.data(), k, n));  // warm
#pragma omp barrier
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < repeats; ++r) {
      gemm.a_b(c, ConstMatrixMap<S>(A.data(), m, k), ConstMatrixMap<S>(B.data(), k, n));
    }
#pragma omp barrier
#pragma omp master
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return 2.0 * double(m) * double(n) * double(k) * repeats * threads / seconds / 1e9;
}

template double gemm_gflops<float>(Index, Index, Index, int, int);
template double gemm_gflops<double>(Index, Index, Index, int, int);

}  // namespace fastnn
