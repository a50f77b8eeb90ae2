#pragma once
// Dropout masks from a counter-based hash: no generator state, so any thread can compute any
// unit's mask, and a result never depends on how the work was partitioned among threads.
//
// Unit j of hidden layer l, for the row at position r of epoch e, is kept iff
// u(seed, e, l, r, j) >= rate, with u uniform on [0, 1) (24 bits). Kept units are scaled by
// 1 / (1 − rate) ("inverted dropout"): a unit's expected output in training equals its output in
// prediction, which uses the whole network unchanged.
#include <cstdint>
#include <vector>

#include "fastnn/types.hpp"

namespace fastnn {

// A 32-bit integer hash with full avalanche (Wellons' "lowbias32"); vectorisable.
inline std::uint32_t mix32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// SplitMix64's finaliser.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct DropoutPlan {
  std::vector<double> rates;  // per weight layer l: the rate on its output (0: none; output: 0)
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;    // set by the trainer for each epoch

  bool any() const {
    for (double r : rates) {
      if (r > 0) return true;
    }
    return false;
  }
  bool on(Index l) const { return size_t(l) < rates.size() && rates[size_t(l)] > 0; }

  // A: (n, w), a block of columns [col, col + w) of layer l's output for the rows at epoch
  // positions first_row .. first_row + n − 1: dropped units set to 0, kept ones scaled.
  template <class S>
  void apply(MatrixRef<S> A, Index l, Index first_row, Index col) const {
    const double rate = rates[size_t(l)];
    const std::uint32_t threshold = std::uint32_t(rate * 16777216.0);  // rate · 2^24
    const S scale = S(1.0 / (1.0 - rate));
    for (Index i = 0; i < A.rows(); ++i) {
      const std::uint32_t key = row_key(l, first_row + i);
      S* a = A.row(i).data();
      for (Index j = 0; j < A.cols(); ++j) {
        const std::uint32_t u = mix32(key + std::uint32_t(col + j) * 0x9e3779b9u) >> 8;
        a[j] = u >= threshold ? a[j] * scale : S(0);
      }
    }
  }

 private:
  std::uint32_t row_key(Index l, Index row) const {
    return std::uint32_t(mix64(seed ^ mix64(epoch * 0x100000001b3ull + std::uint64_t(l)) ^
                               mix64(std::uint64_t(row))));
  }
};

}  // namespace fastnn
