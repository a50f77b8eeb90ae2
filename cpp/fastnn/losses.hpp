#pragma once
// Loss functions: each one's value and output delta side by side, in one place.
//
// For a batch, the loss is scikit-learn's:  sum_i w_i * row_loss_i / sum_i w_i  (w_i = 1 without
// sample weights), with row_loss_i:
//   squared_error    ½ · mean_j (y_ij − ŷ_ij)²                     (output: identity)
//   log_loss         −Σ_j y_ij log p_ij                             (output: softmax)
//   binary_log_loss  −Σ_j y_ij log p_ij + (1 − y_ij) log(1 − p_ij)  (output: logistic)
//   poisson          Σ_j y_ij log(y_ij / ŷ_ij) − y_ij + ŷ_ij         (output: exp)
//   quadratic        ½ · Σ_j (y_ij − ŷ_ij)²                          (output: logistic)
//   absolute_error   mean_j |y_ij − ŷ_ij|                            (output: identity)
//   huber            mean_j h(ŷ_ij − y_ij), h(r) = ½r² for |r| <= δ, δ(|r| − ½δ) beyond
//                                                                    (output: identity)
//   quantile         mean_j ρ(y_ij − ŷ_ij), ρ(u) = q·u for u >= 0, (q − 1)·u below
//                                                                    (output: identity)
// with p clipped to [eps, 1 − eps] (eps of the dtype). The first four are canonical links, so
// their output delta dL/dz is (ŷ − y) · w_i -- as scikit-learn computes it (for squared_error
// with several outputs that is n_outputs times the derivative of the mean above: scikit-learn's
// convention, kept for parity). `quadratic` is the lecture notes' cost with sigmoid outputs
// (a classifier's one-hot targets): dL/dz = (ŷ − y) · ŷ(1 − ŷ) · w_i. The robust regression
// losses' output deltas are their exact (sub)gradients, times w_i: sign(ŷ − y) / n_outputs
// (absolute_error; 0 at 0), clip(ŷ − y, −δ, δ) / n_outputs (huber), and −q where y > ŷ,
// 1 − q elsewhere, / n_outputs (quantile; scikit-learn's PinballLoss convention at y == ŷ).
// `param` is huber's δ or quantile's q (unused by the other losses).
#include <string>

#include "fastnn/activations.hpp"
#include "fastnn/types.hpp"

namespace fastnn {

enum class Loss {
  squared_error, log_loss, binary_log_loss, poisson, quadratic, absolute_error, huber, quantile
};

// Throws std::invalid_argument unless `param` suits the loss: huber's δ > 0, quantile's q in
// (0, 1).
void check_loss_param(Loss loss, double param);

Loss parse_loss(const std::string& name);
const char* loss_name(Loss loss);
// The output activation a loss is paired with (its canonical link).
Activation output_activation_for(Loss loss);

// Returns Σ_i w_i · row_loss_i.  Yhat, Y: (n, n_outputs)  w: (n) or nullptr for all ones.
template <class S>
double weighted_loss_sum(ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w, Loss loss,
                         double param = 0.0);

// Σ w_i, in order, in double (an order fixed by the data alone); n when w is nullptr.
template <class S>
double weight_sum(const S* w, Index n);

// The loss of a data set: Σ_i w_i · row_loss_i / Σ_i w_i (the mean without weights), the weights
// summed in order in double; NaN when they sum to 0.  Yhat, Y: (n, n_outputs)  w: (n) or nullptr.
template <class S>
double mean_loss(ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w, Loss loss,
                 double param = 0.0);

// dZ = dL/dz of each row, times w_i.  dZ, Yhat, Y: (n, n_outputs)  w: (n) or nullptr.
template <class S>
void output_delta(MatrixMap<S> dZ, ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w,
                  Loss loss, double param = 0.0);

}  // namespace fastnn
