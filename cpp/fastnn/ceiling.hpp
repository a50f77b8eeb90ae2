#pragma once
// The machine's GEMM ceiling as fastnn can reach it: single-threaded Eigen products built with
// fastnn's own flags, one independent product per thread (fastnn's one level of parallelism).
#include "fastnn/types.hpp"

namespace fastnn {

// The three product forms backpropagation uses (GemmWorkspace::a_b, at_b, a_bt).
enum class ProductForm { a_b, at_b, a_bt };

// Runs `repeats` products C_t (m, n) = op(A_t) · op(B_t) with inner dimension k (row-major) on
// each of n_threads threads at once; returns the achieved GFLOP/s of the whole team
// (2·m·n·k per product).
template <class S>
double gemm_gflops(Index m, Index k, Index n, int n_threads, int repeats,
                   ProductForm form = ProductForm::a_b);

}  // namespace fastnn
