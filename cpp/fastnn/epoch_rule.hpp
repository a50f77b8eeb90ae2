#pragma once
// scikit-learn's rules between two epochs of a stochastic fit, in one place
// (sklearn/neural_network/_multilayer_perceptron.py `_fit_stochastic` and
// `_update_no_improvement_count`; _stochastic_optimizers.py `iteration_ends` and
// `trigger_stopping`): the best value so far and the epochs without improvement, the SGD
// learning-rate schedules, and the decision to stop.
//
// After every epoch the driver calls `record` with the epoch's criterion -- the mean training
// loss, or the validation score that Python computed (early stopping) -- and then `decide`.
// Trainer::run_epochs does both itself when the criterion is the training loss; when Python must
// act between the two (a validation score, a callback that may stop the fit, verbose lines) it
// runs one epoch at a time and calls them itself, reporting what they return.
#include <cstdint>

#include "fastnn/types.hpp"

namespace fastnn {

struct EpochRule {
  enum class Schedule { constant, invscaling, adaptive };  // adam: constant
  enum class Criterion { training_loss, validation_score };
  enum class Decision { go_on, lower_learning_rate, stop };

  // fixed for a fit
  double tol = 1e-4;
  double n_iter_no_change = 10;  // may be inf
  Schedule schedule = Schedule::constant;
  Criterion criterion = Criterion::training_loss;
  double learning_rate_init = 1e-3;
  double power_t = 0.5;
  // state, carried from epoch to epoch (and back to the estimator)
  double learning_rate = 1e-3;      // SGD's current rate
  double best = 0;                  // best_loss_ (lowest) or best_validation_score_ (highest)
  double no_improvement_count = 0;  // _no_improvement_count
  std::int64_t samples_seen = 0;    // t_
  bool stopped = false;             // decide() ended training (not the epoch limit)

  // After an epoch over n samples whose criterion is `value`: counts the samples, updates the
  // no-improvement count (an improvement is more than tol) and the best value, and the
  // invscaling rate. Returns true when `value` is a new best (strictly better; never for NaN).
  bool record(double value, Index n);

  // After record: when the count exceeds n_iter_no_change, the adaptive schedule divides the
  // rate by 5 and starts counting again while the rate is above 1e-6; otherwise training stops.
  Decision decide();
};

}  // namespace fastnn
