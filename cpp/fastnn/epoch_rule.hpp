#pragma once
// The rules between two epochs of a stochastic fit, in one place: scikit-learn's
// (sklearn/neural_network/_multilayer_perceptron.py `_fit_stochastic` and
// `_update_no_improvement_count`; _stochastic_optimizers.py `iteration_ends` and
// `trigger_stopping`) -- the best value so far and the epochs without improvement, the SGD
// learning-rate schedules, the decision to stop -- and fastnn's `lr_schedule` (cosine, step,
// plateau, or a factor per epoch given by the caller) with its linear warm-up, for SGD and Adam.
//
// Before every epoch the driver calls `begin_epoch`, which sets the epoch's learning rate.
// After every epoch it calls `record` with the epoch's criterion -- the mean training
// loss, or the validation score that Python computed (early stopping) -- and then `decide`.
// Trainer::run_epochs does both itself when the criterion is the training loss; when Python must
// act between the two (a validation score, a callback that may stop the fit, verbose lines) it
// runs one epoch at a time and calls them itself, reporting what they return.
#include <cstdint>

#include "fastnn/types.hpp"

namespace fastnn {

struct EpochRule {
  // constant, invscaling, adaptive: scikit-learn's `learning_rate` (adam: constant). The
  // lr_schedule ones multiply learning_rate_init, after a warm-up, by a factor of the epoch e
  // counted from the warm-up's end, over the E = horizon - warmup_epochs epochs after it:
  //   cosine   ½(1 + cos(π·e/E))  (e capped at E - 1: the last value stays after the horizon)
  //   step     1, then 0.1 from e >= E/2, then 0.01 from e >= 3E/4
  //   plateau  the adaptive rule's rate (divided by 5 after n_iter_no_change epochs without
  //            improvement; stop once it is <= 1e-6), for Adam too
  //   given    `factor`, set by the caller before each epoch (a Python callable's value)
  // The warm-up multiplies epoch k < warmup_epochs's rate by (k + 1) / (warmup_epochs + 1).
  enum class Schedule { constant, invscaling, adaptive, cosine, step, plateau, given };
  enum class Criterion { training_loss, validation_score };
  enum class Decision { go_on, lower_learning_rate, stop };

  // fixed for a fit
  double tol = 1e-4;
  double n_iter_no_change = 10;  // may be inf
  Schedule schedule = Schedule::constant;
  Criterion criterion = Criterion::training_loss;
  double learning_rate_init = 1e-3;
  double power_t = 0.5;
  std::int64_t warmup_epochs = 0;
  std::int64_t horizon = 200;  // the epochs the schedule spans, warm-up included (max_iter)
  // partial_fit: several epochs stand for as many calls of one epoch each: a stop decision ends
  // only its own call (scikit-learn's partial_fit), so the epochs after it still run, and each
  // epoch's shuffle permutes 0..n-1, as a call's does.
  bool incremental = false;
  // state, carried from epoch to epoch (and back to the estimator)
  double learning_rate = 1e-3;      // the current rate (SGD's; Adam's before bias correction)
  double plateau_rate = 1e-3;       // plateau: the rate before the warm-up's factor
  double factor = 1;                // given: this epoch's factor
  std::int64_t epoch = 0;           // epochs begun under this schedule
  double best = 0;                  // best_loss_ (lowest) or best_validation_score_ (highest)
  double no_improvement_count = 0;  // _no_improvement_count
  std::int64_t samples_seen = 0;    // t_
  bool stopped = false;             // decide() ended training (not the epoch limit)

  // Before an epoch: sets learning_rate for it (scikit-learn's invscaling and adaptive keep the
  // rate record / decide left), and counts the epoch.
  void begin_epoch();

  // After an epoch over n samples whose criterion is `value`: counts the samples, updates the
  // no-improvement count (an improvement is more than tol) and the best value, and the
  // invscaling rate. Returns true when `value` is a new best (strictly better; never for NaN).
  bool record(double value, Index n);

  // After record: when the count exceeds n_iter_no_change, the adaptive and plateau schedules
  // divide the rate by 5 and start counting again while the rate is above 1e-6; otherwise
  // training stops.
  Decision decide();
};

}  // namespace fastnn
