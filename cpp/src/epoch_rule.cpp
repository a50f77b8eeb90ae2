#include "fastnn/epoch_rule.hpp"

#include <cmath>

namespace fastnn {

bool EpochRule::record(double value, Index n) {
  samples_seen += n;
  const bool improved = criterion == Criterion::training_loss ? value < best : value > best;
  const bool not_by_tol =
      criterion == Criterion::training_loss ? value > best - tol : value < best + tol;
  no_improvement_count = not_by_tol ? no_improvement_count + 1 : 0;
  if (improved) best = value;
  if (schedule == Schedule::invscaling) {
    learning_rate = learning_rate_init / std::pow(double(samples_seen + 1), power_t);
  }
  return improved;
}

EpochRule::Decision EpochRule::decide() {
  if (!(no_improvement_count > n_iter_no_change)) return Decision::go_on;
  if (schedule != Schedule::adaptive || learning_rate <= 1e-6) {
    stopped = true;
    return Decision::stop;
  }
  learning_rate /= 5.0;
  no_improvement_count = 0;
  return Decision::lower_learning_rate;
}

}  // namespace fastnn
