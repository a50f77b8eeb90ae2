#include "fastnn/parallel.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>

namespace fastnn {

namespace {

std::atomic<bool> serial_in_this_process{false};
bool pool_kept_over_fork = false;
bool simulate_kept_pool = false;  // tests

// GNU OpenMP (libgomp) keeps a thread's pool across fork(): the child inherits the pool's
// bookkeeping but not its threads, and its first team waits forever for them. Before a fork the
// forking thread's pool is released (OpenMP 5's omp_pause_resource_all: libgomp joins the pool's
// threads and frees it), so the child starts a new pool -- every thread, as in the parent -- and
// the parent's next team starts new threads. Other threads' pools are not the forking thread's
// and are not copied into the child. If the pool cannot be released (the forking thread is inside
// a parallel region), the child runs fastnn on one thread, which gives the same bits.
void before_fork() {
  pool_kept_over_fork = simulate_kept_pool;
  simulate_kept_pool = false;
#ifdef _OPENMP
  if (!pool_kept_over_fork) pool_kept_over_fork = omp_pause_resource_all(omp_pause_hard) != 0;
#endif
}

void in_child() {
  if (pool_kept_over_fork) serial_in_this_process = true;
}

[[maybe_unused]] const int fork_handlers = pthread_atfork(before_fork, nullptr, in_child);

}  // namespace

bool serial_after_fork() { return serial_in_this_process.load(std::memory_order_relaxed); }

void simulate_pool_kept_over_fork() { simulate_kept_pool = true; }

double barrier_seconds(int threads, int rounds) {
  double seconds = 0;
  run_in_team(threads, [&] {
#ifdef _OPENMP
#pragma omp barrier
#endif
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) {
#ifdef _OPENMP
#pragma omp barrier
#endif
    }
    if (thread_id() == 0) {
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  });
  return rounds > 0 ? seconds / rounds : 0.0;
}

}  // namespace fastnn
