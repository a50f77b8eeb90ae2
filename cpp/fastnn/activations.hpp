#pragma once
// Activation functions: each one's value and derivative side by side, in one place.
// Derivatives are written in terms of the activation's output a = g(z), as scikit-learn does,
// except for the activations that keep their derivative (keeps_derivative): silu and gelu are
// not functions of their output (neither is one-to-one), and softplus's derivative, the logistic
// function, comes nearly free with its value, so the forward pass writes g'(z) beside g(z).
#include <string>

#include "fastnn/types.hpp"

namespace fastnn {

enum class Activation {
  identity,
  logistic,
  tanh,
  relu,
  leaky_relu,
  softmax,
  exp,
  elu,       // z for z > 0, else expm1(z) (Clevert et al. 2016, α = 1); g' = 1 or a + 1
  softplus,  // log(1 + exp(z)); g' = σ(z), kept
  silu,      // z σ(z) (Elfwing et al. 2018; "swish"); g' = σ(z) (1 + z (1 − σ(z))), kept
  gelu,      // z Φ(z), exact: Φ through erfc (Hendrycks & Gimpel 2016); g' = Φ(z) + z φ(z), kept
};

// Throws std::invalid_argument for an unknown name.
Activation parse_activation(const std::string& name);
const char* activation_name(Activation g);
// True for the activations that may be used on hidden layers (softmax and exp are output-only).
bool is_hidden_activation(Activation g);
// True where the forward pass keeps g'(z) for the backward pass (softplus, silu, gelu): the
// backward pass then multiplies by that, not by a function of g(z).
bool keeps_derivative(Activation g);

// Z: (n, units) holds A·W on entry; on exit it holds g(Z + b).  b: (units)
// One pass over each row of Z: bias and activation fused (the transcendental ones by
// vector_math.hpp). `slope` is leaky_relu's slope for z < 0. derivative: (n, units), where
// keeps_derivative(g) and the derivative is wanted (training), receives g'(Z + b); else null.
template <class S>
void add_bias_and_activate(MatrixRef<S> Z, ConstVectorMap<S> b, Activation g, S slope,
                           MatrixRef<S>* derivative = nullptr);

// dA: (n, units) holds dL/da on entry; on exit dL/dz = dL/da * g'(z), with g'(z) computed from
// A = g(z): (n, units), or A = g'(z) itself where keeps_derivative(g). Not defined for softmax /
// exp, which are only used at the output, where the loss gives dL/dz directly.
template <class S>
void multiply_by_derivative(MatrixRef<S> dA, const ConstMatrixRef<S>& A, Activation g, S slope);

}  // namespace fastnn
