#pragma once
// A vectorised sum over memory the caller owns, in an order fixed by n alone. Eigen's own
// reductions start their vector loop at the first aligned element, so which terms they add
// together -- and the rounding -- would depend on where numpy put the array.
#include "fastnn/types.hpp"

namespace fastnn {

// Σ term(x_i) in S: sixteen running sums over the lanes i mod 16 (fixed-size packets loaded
// unaligned, so lane k always holds the same terms), then the lanes and the tail in order.
// term maps a packet (Eigen::Array<S, 16, 1>) and a scalar alike, e.g. [](const auto& v) {
// return v * v; }.  x: (n)
template <class S, class Term>
S sum_in_lanes(const S* x, Index n, Term term) {
  constexpr Index kLanes = 16;
  using Lanes = Eigen::Array<S, kLanes, 1>;
  Lanes lanes = Lanes::Zero();
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const Lanes v = Eigen::Map<const Lanes, Eigen::Unaligned>(x + i);
    lanes += term(v);
  }
  S total = 0;
  for (Index k = 0; k < kLanes; ++k) total += lanes[k];
  for (; i < n; ++i) total += term(x[i]);
  return total;
}

}  // namespace fastnn
