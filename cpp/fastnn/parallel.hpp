#pragma once
// OpenMP helpers. fastnn has one level of parallelism: OpenMP over a fixed partition of the work
// (row chunks, parameter slices); every Eigen product inside runs single-threaded.
#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <utility>

#include "fastnn/types.hpp"

namespace fastnn {

constexpr bool kHaveOpenMP =
#ifdef _OPENMP
    true;
#else
    false;
#endif

// Whether this process is a fork() child whose parent could not release its OpenMP thread pool
// before forking (parallel.cpp): fastnn then runs on one thread here.
bool serial_after_fork();
// For tests only: make the next fork() behave as if the pool could not be released.
void simulate_pool_kept_over_fork();

// The calling thread's OpenMP limit (OMP_NUM_THREADS, omp_set_num_threads, threadpoolctl).
inline int max_threads() {
#ifdef _OPENMP
  return serial_after_fork() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

// The calling thread's number in the current team (0 outside parallel regions).
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// Runs body() on a team of `threads` threads, or -- for one thread -- directly on the caller.
// body's work-sharing constructs (omp for / master / single) are orphaned, so they bind to the
// team, or run serially without one. (A region with `if (false)` would still start a team of
// one, whose barriers cost a futex system call each: ~1 µs a mini-batch on tiny networks.)
template <class Body>
void run_in_team([[maybe_unused]] int threads, Body&& body) {
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    body();
    return;
  }
#endif
  body();
}

// The number of threads in the current team (1 outside parallel regions).
inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

// The calling thread's share of items 0..n-1 whose costs add up as cum (cum[i]: the cost of the
// items before i; cum[n]: all of them): a contiguous range [first, second) holding about
// 1/team_size() of the cost. The ranges of a team's threads cover every item once, in order.
// Which thread runs an item changes no result: only the items do (see Trainer).
inline std::pair<Index, Index> share_of_items(const double* cum, Index n) {
  const double total = cum[n];
  const auto boundary = [&](int t) -> Index {
    if (t == 0) return 0;
    const double cut = total * double(t) / double(team_size());
    return Index(std::lower_bound(cum, cum + n, cut) - cum);
  };
  if (thread_id() + 1 == team_size()) return {boundary(thread_id()), n};
  return {boundary(thread_id()), boundary(thread_id() + 1)};
}

// Seconds one barrier of a team of `threads` threads takes, the mean over `rounds`
// barriers in one parallel region (bench/scaling_model.py's barrier cost).
double barrier_seconds(int threads, int rounds);

// requested <= 0 means "all the calling thread may use".
inline int resolve_threads(int requested) {
  const int n = requested > 0 ? requested : max_threads();
  return kHaveOpenMP && !serial_after_fork() ? n : 1;
}

}  // namespace fastnn
