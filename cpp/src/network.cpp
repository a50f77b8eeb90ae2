#include "fastnn/network.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace fastnn {

void check_residual_layer(Index l, Index n_layers, Index fan_in, Index fan_out) {
  if (l == 0 || l + 1 == n_layers || fan_in != fan_out) {
    throw std::invalid_argument("layer " + std::to_string(l) +
                                " cannot be residual: only square hidden layers after the "
                                "first can");
  }
}

Network::Network(std::vector<Index> layer_units, Activation hidden, Activation output, Loss loss,
                 double leaky_slope, std::vector<char> residual, double loss_param)
    : units_(std::move(layer_units)),
      hidden_(hidden),
      output_(output),
      loss_(loss),
      loss_param_(loss_param),
      leaky_slope_(leaky_slope) {
  check_loss_param(loss_, loss_param_);
  if (units_.size() < 2) throw std::invalid_argument("a network needs at least two layers");
  for (Index u : units_) {
    if (u < 1) throw std::invalid_argument("every layer needs at least one unit");
  }
  if (!is_hidden_activation(hidden_)) {
    throw std::invalid_argument(std::string(activation_name(hidden_)) +
                                " cannot be a hidden-layer activation");
  }
  if (output_activation_for(loss_) != output_) {
    throw std::invalid_argument(std::string("loss '") + loss_name(loss_) +
                                "' needs output activation '" +
                                activation_name(output_activation_for(loss_)) + "', got '" +
                                activation_name(output_) + "'");
  }
  if (!(leaky_slope_ >= 0.0)) throw std::invalid_argument("leaky_slope must be >= 0");

  const Index max_index = std::numeric_limits<Index>::max() / 8;
  Index offset = 0;
  for (size_t l = 0; l + 1 < units_.size(); ++l) {
    const Index fan_in = units_[l], fan_out = units_[l + 1];
    if (fan_out != 0 && fan_in > (max_index - offset) / fan_out) {
      throw std::length_error("the network has too many parameters");
    }
    layers_.push_back({fan_in, fan_out, offset, 0});
    offset += fan_in * fan_out;
    macs_per_sample_ += double(fan_in) * double(fan_out);
  }
  n_coefs_ = offset;
  for (LayerShape& s : layers_) {
    s.intercept_offset = offset;
    offset += s.fan_out;
  }
  n_params_ = offset;
  if (!residual.empty() && residual.size() != layers_.size()) {
    throw std::invalid_argument("residual needs one flag per weight layer");
  }
  residual_.assign(layers_.size(), 0);
  for (size_t l = 0; l < residual.size(); ++l) {
    if (residual[l]) check_residual_layer(Index(l), n_layers(), layers_[l].fan_in, layers_[l].fan_out);
    residual_[l] = residual[l] ? 1 : 0;
  }
  for (size_t l = 1; l < units_.size(); ++l) {
    max_units_ = std::max(max_units_, units_[l]);
    units_after_input_ += units_[l];
  }
}

template <class S>
void LayerViews<S>::validate() const {
  if (layers.empty()) throw std::invalid_argument("a network needs at least one layer");
  if (!is_hidden_activation(hidden)) {
    throw std::invalid_argument(std::string(activation_name(hidden)) +
                                " cannot be a hidden-layer activation");
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    if (layers[l].b.size() != layers[l].W.cols()) {
      throw std::invalid_argument("intercepts_[" + std::to_string(l) + "] has " +
                                  std::to_string(layers[l].b.size()) + " entries but coefs_[" +
                                  std::to_string(l) + "] has " +
                                  std::to_string(layers[l].W.cols()) + " columns");
    }
    if (is_residual(Index(l))) {
      check_residual_layer(Index(l), Index(layers.size()), layers[l].W.rows(), layers[l].W.cols());
    }
    if (l > 0 && layers[l].W.rows() != layers[l - 1].W.cols()) {
      throw std::invalid_argument("coefs_[" + std::to_string(l) + "] has " +
                                  std::to_string(layers[l].W.rows()) + " rows but coefs_[" +
                                  std::to_string(l - 1) + "] has " +
                                  std::to_string(layers[l - 1].W.cols()) + " columns");
    }
  }
}

template <class S>
LayerViews<S> LayerViews<S>::hidden_front(Index n_hidden) const {
  if (n_hidden < 1 || n_hidden >= Index(layers.size())) {
    throw std::out_of_range("hidden layer " + std::to_string(n_hidden) + " of a network with " +
                            std::to_string(layers.size() - 1) + " hidden layers");
  }
  LayerViews<S> front{{layers.begin(), layers.begin() + n_hidden}, hidden, hidden, leaky_slope,
                      {}};
  if (!residual.empty()) front.residual.assign(residual.begin(), residual.begin() + n_hidden);
  return front;
}

template struct LayerViews<float>;
template struct LayerViews<double>;

}  // namespace fastnn
