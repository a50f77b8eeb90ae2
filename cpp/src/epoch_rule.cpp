#include "fastnn/epoch_rule.hpp"

#include <algorithm>
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
  double* rate = schedule == Schedule::adaptive  ? &learning_rate
                 : schedule == Schedule::plateau ? &plateau_rate
                                                 : nullptr;
  if (!rate || *rate <= 1e-6) {
    stopped = true;
    return Decision::stop;
  }
  *rate /= 5.0;
  learning_rate = *rate;
  no_improvement_count = 0;
  return Decision::lower_learning_rate;
}

void EpochRule::begin_epoch() {
  const std::int64_t k = epoch++;
  if (schedule == Schedule::invscaling || schedule == Schedule::adaptive) return;
  const double e = double(std::max<std::int64_t>(k - warmup_epochs, 0));
  const double E = double(std::max<std::int64_t>(horizon - warmup_epochs, 1));
  double rate = learning_rate_init;
  switch (schedule) {
    case Schedule::cosine:
      rate *= 0.5 * (1.0 + std::cos(3.14159265358979323846 * std::min(e, E - 1.0) / E));
      break;
    case Schedule::step:
      rate *= e >= 0.75 * E ? 0.01 : e >= 0.5 * E ? 0.1 : 1.0;
      break;
    case Schedule::plateau:
      rate = plateau_rate;
      break;
    case Schedule::given:
      rate *= factor;
      break;
    default:
      break;
  }
  if (k < warmup_epochs) rate *= double(k + 1) / double(warmup_epochs + 1);
  learning_rate = rate;
}

}  // namespace fastnn
