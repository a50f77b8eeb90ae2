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
  if (name == "absolute_error") return Loss::absolute_error;
  if (name == "huber") return Loss::huber;
  if (name == "quantile") return Loss::quantile;
  throw std::invalid_argument("unknown loss '" + name + "'");
}

const char* loss_name(Loss loss) {
  switch (loss) {
    case Loss::squared_error: return "squared_error";
    case Loss::log_loss: return "log_loss";
    case Loss::binary_log_loss: return "binary_log_loss";
    case Loss::poisson: return "poisson";
    case Loss::quadratic: return "quadratic";
    case Loss::absolute_error: return "absolute_error";
    case Loss::huber: return "huber";
    case Loss::quantile: return "quantile";
  }
  return "?";
}

void check_loss_param(Loss loss, double param) {
  if (loss == Loss::huber && !(param > 0.0 && std::isfinite(param))) {
    throw std::invalid_argument("huber's delta must be > 0");
  }
  if (loss == Loss::quantile && !(param > 0.0 && param < 1.0)) {
    throw std::invalid_argument("the quantile must be in (0, 1)");
  }
}

Activation output_activation_for(Loss loss) {
  switch (loss) {
    case Loss::squared_error: return Activation::identity;
    case Loss::log_loss: return Activation::softmax;
    case Loss::binary_log_loss: return Activation::logistic;
    case Loss::poisson: return Activation::exp;
    case Loss::quadratic: return Activation::logistic;
    case Loss::absolute_error:
    case Loss::huber:
    case Loss::quantile: return Activation::identity;
  }
  return Activation::identity;
}

namespace {

// x · log(y), defined as 0 for x == 0 (scipy's xlogy).
inline double xlogy(double x, double y) { return x == 0.0 ? 0.0 : x * std::log(y); }

template <class S>
double row_loss(const S* yhat, const S* y, Index n_outputs, Loss loss, double param) {
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
    case Loss::absolute_error:
      for (Index j = 0; j < n_outputs; ++j) sum += std::abs(double(y[j]) - double(yhat[j]));
      return sum / double(n_outputs);
    case Loss::huber:
      for (Index j = 0; j < n_outputs; ++j) {
        const double r = std::abs(double(yhat[j]) - double(y[j]));
        sum += r <= param ? 0.5 * r * r : param * (r - 0.5 * param);
      }
      return sum / double(n_outputs);
    case Loss::quantile:
      for (Index j = 0; j < n_outputs; ++j) {
        const double u = double(y[j]) - double(yhat[j]);
        sum += u >= 0 ? param * u : (param - 1.0) * u;
      }
      return sum / double(n_outputs);
  }
  return sum;
}

}  // namespace

template <class S>
double weighted_loss_sum(ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w, Loss loss,
                         double param) {
  // Yhat, Y: (n, n_outputs)  w: (n)
  double total = 0.0;
  for (Index i = 0; i < Yhat.rows(); ++i) {
    const double l = row_loss<S>(Yhat.row(i).data(), Y.row(i).data(), Yhat.cols(), loss, param);
    total += w ? double(w[i]) * l : l;
  }
  return total;
}

template <class S>
double weight_sum(const S* w, Index n) {
  if (!w) return double(n);
  double sum = 0.0;
  for (Index i = 0; i < n; ++i) sum += double(w[i]);
  return sum;
}

template <class S>
double mean_loss(ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w, Loss loss,
                 double param) {
  const double total = weight_sum(w, Yhat.rows());
  if (total == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return weighted_loss_sum<S>(Yhat, Y, w, loss, param) / total;
}

template <class S>
void output_delta(MatrixMap<S> dZ, ConstMatrixMap<S> Yhat, ConstMatrixMap<S> Y, const S* w,
                  Loss loss, double param) {
  // dZ, Yhat, Y: (n, n_outputs)  w: (n)
  const S per_output = S(1) / S(Yhat.cols());
  switch (loss) {
    case Loss::absolute_error:
      dZ.array() = (Yhat.array() - Y.array()).sign() * per_output;
      break;
    case Loss::huber:
      dZ.array() = (Yhat.array() - Y.array()).max(S(-param)).min(S(param)) * per_output;
      break;
    case Loss::quantile:
      // −q where y > ŷ, 1 − q elsewhere
      dZ.array() =
          (S(1.0 - param) - (Y.array() > Yhat.array()).template cast<S>()) * per_output;
      break;
    default:
      dZ.array() = Yhat.array() - Y.array();
      if (loss == Loss::quadratic) dZ.array() *= Yhat.array() * (S(1) - Yhat.array());
  }
  if (w) {
    for (Index i = 0; i < dZ.rows(); ++i) dZ.row(i) *= w[i];
  }
}

template double weighted_loss_sum<float>(ConstMatrixMap<float>, ConstMatrixMap<float>,
                                         const float*, Loss, double);
template double weighted_loss_sum<double>(ConstMatrixMap<double>, ConstMatrixMap<double>,
                                          const double*, Loss, double);
template double weight_sum<float>(const float*, Index);
template double weight_sum<double>(const double*, Index);
template double mean_loss<float>(ConstMatrixMap<float>, ConstMatrixMap<float>, const float*,
                                 Loss, double);
template double mean_loss<double>(ConstMatrixMap<double>, ConstMatrixMap<double>, const double*,
                                  Loss, double);
template void output_delta<float>(MatrixMap<float>, ConstMatrixMap<float>, ConstMatrixMap<float>,
                                  const float*, Loss, double);
template void output_delta<double>(MatrixMap<double>, ConstMatrixMap<double>,
                                   ConstMatrixMap<double>, const double*, Loss, double);

}  // namespace fastnn
