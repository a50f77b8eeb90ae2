#pragma once
// Activation functions: each one's value and derivative side by side, in one place.
// Derivatives are written in terms of the activation's output a = g(z), as scikit-learn does.
#include <string>

#include "fastnn/types.hpp"

namespace fastnn {

enum class Activation { identity, logistic, tanh, relu, leaky_relu, softmax, exp };

// Throws std::invalid_argument for an unknown name.
Activation parse_activation(const std::string& name);
const char* activation_name(Activation g);
// True for the activations that may be used on hidden layers (softmax and exp are output-only).
bool is_hidden_activation(Activation g);

// Z: (n, units) holds A·W on entry; on exit it holds g(Z + b).  b: (units)
// One pass over each row of Z: bias and activation fused (tanh and exp by vector_math.hpp). `slope` is leaky_relu's slope for z < 0.
template <class S>
void add_bias_and_activate(MatrixRef<S> Z, ConstVectorMap<S> b, Activation g, S slope);

// dA: (n, units) holds dL/da on entry; on exit dL/dz = dL/da * g'(z), with g'(z) computed from
// A = g(z): (n, units). Not defined for softmax / exp, which are only used at the output, where
// the loss gives dL/dz directly.
template <class S>
void multiply_by_derivative(MatrixRef<S> dA, const ConstMatrixRef<S>& A, Activation g, S slope);

}  // namespace fastnn
