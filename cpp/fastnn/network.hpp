#pragma once
// The network's shape and the layout of its one flat parameter buffer.
//
// Parameters are packed exactly as scikit-learn's `_pack(coefs_, intercepts_)`: every layer's
// coefficient matrix W (fan_in, fan_out), row-major, then every layer's intercept b (fan_out).
// All coefficients therefore sit in the prefix [0, n_coefs()), which is what the L2 penalty sees.
// Gradients and optimizer state use the same layout.
#include <string>
#include <vector>

#include "fastnn/activations.hpp"
#include "fastnn/losses.hpp"
#include "fastnn/types.hpp"

namespace fastnn {

struct LayerShape {
  Index fan_in;
  Index fan_out;
  Index coef_offset;       // W: (fan_in, fan_out) at params[coef_offset]
  Index intercept_offset;  // b: (fan_out) at params[intercept_offset]
};

// A dense layer's parameters, viewed in a flat buffer.
template <class S>
struct DenseLayer {
  Eigen::Map<const RowMatrix<S>> W;  // (fan_in, fan_out)
  Eigen::Map<const Vector<S>> b;     // (fan_out)
};

// A dense layer's gradient, viewed in a flat buffer of the same layout.
template <class S>
struct DenseLayerGrad {
  Eigen::Map<RowMatrix<S>> dW;  // (fan_in, fan_out)
  Eigen::Map<Vector<S>> db;     // (fan_out)
};

// A network's layers viewed where they lie (one array per W and b, e.g. a fitted model's coefs_
// and intercepts_), for inference: nothing is packed or copied.
template <class S>
struct LayerViews {
  std::vector<DenseLayer<S>> layers;
  Activation hidden;
  Activation output;
  double leaky_slope;
  std::vector<char> residual;  // per layer, or empty for none (see Network)

  Activation activation_of(Index l) const {
    return l + 1 == Index(layers.size()) ? output : hidden;
  }
  Index n_features() const { return layers.front().W.rows(); }
  Index n_outputs() const { return layers.back().W.cols(); }
  bool is_residual(Index l) const { return size_t(l) < residual.size() && residual[size_t(l)]; }
  // Throws std::invalid_argument unless there is a layer, consecutive layers chain
  // (fan_out of one is fan_in of the next), hidden is a hidden-layer activation and every
  // residual layer is a square hidden layer.
  void validate() const;
  // The first n_hidden layers, a network whose output is the activations of hidden layer
  // n_hidden (1-based; residual layers as in the whole network). Throws std::out_of_range
  // unless 1 <= n_hidden < layers.size().
  LayerViews hidden_front(Index n_hidden) const;
};

// Throws std::invalid_argument unless weight layer l of n_layers, of shape (fan_in, fan_out),
// can be residual: a square hidden layer after the first.
void check_residual_layer(Index l, Index n_layers, Index fan_in, Index fan_out);

class Network {
 public:
  // layer_units: [n_features, hidden..., n_outputs]. residual: per weight layer, whether it is
  // residual (empty: none): a residual layer l computes A[l+1] = A[l] + g(A[l]·W + b), the
  // lecture notes' y[l+1] = y[l] + σ(K y[l] + b). Which layers are residual is the caller's
  // choice (Python's NetworkSpec); the core only checks that it can compute them. Throws
  // std::invalid_argument on a bad spec (fewer than two layers, a size < 1, an output-only
  // hidden activation, a loss that does not match the output activation, a negative leaky
  // slope, a residual flag per layer that is not one per weight layer or marks a layer that is
  // not a square hidden layer after the first).
  // loss_param: huber's δ or quantile's q (see losses.hpp), checked.
  Network(std::vector<Index> layer_units, Activation hidden, Activation output, Loss loss,
          double leaky_slope, std::vector<char> residual = {}, double loss_param = 0.0);

  const std::vector<Index>& layer_units() const { return units_; }
  const std::vector<LayerShape>& layers() const { return layers_; }
  Index n_layers() const { return Index(layers_.size()); }  // weight layers (n_layers_ - 1)
  Index n_features() const { return units_.front(); }
  Index n_outputs() const { return units_.back(); }
  Index n_coefs() const { return n_coefs_; }
  Index n_params() const { return n_params_; }
  Index max_units() const { return max_units_; }  // widest layer after the input
  Index units_after_input() const { return units_after_input_; }  // Σ units[1..]
  // Multiply-adds of one forward pass for one sample.
  double macs_per_sample() const { return macs_per_sample_; }
  Activation hidden_activation() const { return hidden_; }
  Activation output_activation() const { return output_; }
  Activation activation_of(Index layer) const { return layer + 1 == n_layers() ? output_ : hidden_; }
  Loss loss() const { return loss_; }
  double loss_param() const { return loss_param_; }
  bool residual(Index layer) const { return residual_[size_t(layer)] != 0; }
  const std::vector<char>& residual_layers() const { return residual_; }
  double leaky_slope() const { return leaky_slope_; }

  template <class S>
  DenseLayer<S> layer(const S* params, Index l) const {
    const LayerShape& s = layers_[size_t(l)];
    return {Eigen::Map<const RowMatrix<S>>(params + s.coef_offset, s.fan_in, s.fan_out),
            Eigen::Map<const Vector<S>>(params + s.intercept_offset, s.fan_out)};
  }
  template <class S>
  DenseLayerGrad<S> layer_grad(S* grad, Index l) const {
    const LayerShape& s = layers_[size_t(l)];
    return {Eigen::Map<RowMatrix<S>>(grad + s.coef_offset, s.fan_in, s.fan_out),
            Eigen::Map<Vector<S>>(grad + s.intercept_offset, s.fan_out)};
  }

 private:
  std::vector<Index> units_;
  std::vector<LayerShape> layers_;
  Activation hidden_;
  Activation output_;
  Loss loss_;
  double loss_param_;
  double leaky_slope_;
  std::vector<char> residual_;  // per weight layer
  Index n_coefs_ = 0;
  Index n_params_ = 0;
  Index max_units_ = 0;
  Index units_after_input_ = 0;
  double macs_per_sample_ = 0;
};

}  // namespace fastnn
