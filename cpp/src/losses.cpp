#include "fastnn/losses.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fastnn {

Loss parse_loss(const std::string& name) {
  if (name == "squared_error") return Loss::squared_error;
  if (name == "log_loss") return Loss::log_loss;
  if (name == "binary_log_loss") return Loss::binary_log_loss;
  if (name == "poisson") return Loss::poisson;
  if (name == "quadratic") return Loss::quadratic;
  throw std::invalid_argument("unknown loss '" + name + "'");
}

const char* loss_name(Loss loss) {
  switch (loss) {
    case Loss::squared_error: return "squared_error";
    case Loss::log_loss: return "log_loss";
    case Loss::binary_log_loss: return "binary_log_loss";
    case Loss::poisson: return "poisson";
    case Loss::quadratic: return "quadratic";
  }
  return "?";
}

Activation output_activation_for(Loss loss) {
  switch (loss) {
    case Loss::squared_error: return Activation::identity;
    case Loss::log_loss: return Activation::softmax;
    case Loss::binary_log_loss: return Activation::logistic;
    case Loss::poisson: return Activation::exp;
    case Loss::quadratic: return Activation::logistic;
  }
  return Activation::identity;
}

namespace {

// x · log(y), defined as 0 for x == 0 (scipy's xlogy).
inline double xlogy(double x, double y) { return x == 0.0 ? 0.0 : x * std::log(y); }

template <class S>
double row_loss(const S* yhat, const S* y, Index n_outputs, Loss loss) {
  constexpr double eps = std::numeric_limits<S>::epsilon();
  double sum = 0.0;
  switch (loss) {
    case Loss::squared_error:
      for (Index j = 0; j < n_outputs; ++j) {
        const double d = double(y[j]) - double(yhat[j]);
        sum += d * d;
      }
      return 0.5 * sum / double(n_outputs);
    case Loss::log_loss:
      for (Index j = 0; j < n_outputs; ++j) {
        sum -= xlogy(y[j], std::clamp(double(yhat[j]), eps, 1.0 - eps));
      }
      return sum;
    case Loss::binary_log_loss:
      for (Index j = 0; j < n_outputs; ++j) {
        const double p = std::clamp(double(yhat[j]), eps, 1.0 - eps);
        sum -= xlogy(y[j], p) + xlogy(1.0 - double(y[j]), 1.0 - p);
      }
      return sum;
    case Loss::poisson:
      for (Index j = 0; j < n_outputs; ++j) {
        sum += xlogy(y[j], double(y[j]) / double(yhat[j])) - double(y[j]) + double(yhat[j]);
      }
      return sum;
    case Loss::quadratic:
      for (Index j = 0; j < n_outputs; ++j) {
        const double d = double(y[j]) - double(yhat[j]);
        sum += d * d;
      }
      return 0.5 * sum;
  }
  return sum;
}

}  // namespace

template <class S>
double weighted_loss_sum(ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w, Loss loss) {
  // Yhat, Y: (n, n_outputs)  w: (n)
  double total = 0.0;
  for (Index i = 0; i < Yhat.rows(); ++i) {
    const double l = row_loss<S>(Yhat.row(i).data(), Y.row(i).data(), Yhat.cols(), loss);
    total += w ? double(w[i]) * l : l;
  }
  return total;
}

template <class S>
double mean_loss(ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w, Loss loss) {
  double weight_sum = double(Yhat.rows());
  if (w) {
    weight_sum = 0.0;
    for (Index i = 0; i < Yhat.rows(); ++i) weight_sum += double(w[i]);
  }
  if (weight_sum == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return weighted_loss_sum<S>(Yhat, Y, w, loss) / weight_sum;
}

template <class S>
void output_delta(MatrixMap<S> dZ, ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w,
                  Loss loss) {
  // dZ, Yhat, Y: (n, n_outputs)  w: (n)
  dZ.array() = Yhat.array() - Y.array();
  if (loss == Loss::quadratic) dZ.array() *= Yhat.array() * (S(1) - Yhat.array());
  if (w) {
    for (Index i = 0; i < dZ.rows(); ++i) dZ.row(i) *= w[i];
  }
}

template double weighted_loss_sum<float>(ConstMatrixMap<float>, ConstMatrixMap<float>,
                                         const float*, Loss);
template double weighted_loss_sum<double>(ConstMatrixMap<double>, ConstMatrixMap<double>,
                                          const double*, Loss);
template double mean_loss<float>(ConstMatrixMap<float>, ConstMatrixMap<float>, const float*,
                                 Loss);
template double mean_loss<double>(ConstMatrixMap<double>, ConstMatrixMap<double>, const double*,
                                  Loss);
template void output_delta<float>(MatrixMap<float>, ConstMatrixMap<float>, ConstMatrixMap<float>,
                                  const float*, Loss);
template void output_delta<double>(MatrixMap<double>, ConstMatrixMap<double>,
                                   ConstMatrixMap<double>, const double*, Loss);

}  // namespace fastnn
