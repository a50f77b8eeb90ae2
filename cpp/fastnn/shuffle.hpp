#pragma once
// numpy's legacy `RandomState.shuffle` of a 1-D array, bit for bit: the MT19937 generator
// (numpy/random/src/mt19937) and the Fisher-Yates shuffle with `random_interval`'s masked
// rejection sampling (numpy/random/src/distributions). With the state of a RandomState, the
// core draws each epoch's permutation exactly as scikit-learn's `shuffle(..., random_state)`
// would, without returning to Python between epochs.
#include <cstdint>

#include "fastnn/types.hpp"

namespace fastnn {

class LegacyShuffler {
 public:
  static constexpr int kStateSize = 624;

  // key: (624) the generator's state words, updated in place; pos: (1) its position.
  LegacyShuffler(std::uint32_t* key, std::int64_t* pos) : key_(key), pos_(pos) {}

  // Shuffles a[0..n) in place (n < 2^32), as RandomState.shuffle does.
  void shuffle(std::int64_t* a, Index n) {
    for (Index i = n - 1; i >= 1; --i) {
      const Index j = Index(interval(std::uint32_t(i)));
      const std::int64_t t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

 private:
  // Uniform on [0, max] by rejection of masked draws (max > 0).
  std::uint32_t interval(std::uint32_t max) {
    std::uint32_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    std::uint32_t value;
    while ((value = next() & mask) > max) {
    }
    return value;
  }

  std::uint32_t next() {
    if (*pos_ == kStateSize) reload();
    std::uint32_t y = key_[(*pos_)++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }

  void reload() {
    constexpr int n = kStateSize, m = 397;
    constexpr std::uint32_t matrix_a = 0x9908b0dfu, upper = 0x80000000u, lower = 0x7fffffffu;
    const auto twist = [&](int i, int next, int far) {
      const std::uint32_t y = (key_[i] & upper) | (key_[next] & lower);
      key_[i] = key_[far] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix_a);
    };
    int i = 0;
    for (; i < n - m; ++i) twist(i, i + 1, i + m);
    for (; i < n - 1; ++i) twist(i, i + 1, i + m - n);
    twist(n - 1, 0, m - 1);
    *pos_ = 0;
  }

  std::uint32_t* key_;
  std::int64_t* pos_;
};

}  // namespace fastnn
