#include "fastnn/activations.hpp"

#include "fastnn/vector_math.hpp"

#include <stdexcept>

namespace fastnn {

Activation parse_activation(const std::string& name) {
  if (name == "identity") return Activation::identity;
  if (name == "logistic") return Activation::logistic;
  if (name == "tanh") return Activation::tanh;
  if (name == "relu") return Activation::relu;
  if (name == "leaky_relu") return Activation::leaky_relu;
  if (name == "softmax") return Activation::softmax;
  if (name == "exp") return Activation::exp;
  if (name == "elu") return Activation::elu;
  if (name == "softplus") return Activation::softplus;
  if (name == "silu") return Activation::silu;
  if (name == "gelu") return Activation::gelu;
  throw std::invalid_argument("unknown activation '" + name + "'");
}

const char* activation_name(Activation g) {
  switch (g) {
    case Activation::identity: return "identity";
    case Activation::logistic: return "logistic";
    case Activation::tanh: return "tanh";
    case Activation::relu: return "relu";
    case Activation::leaky_relu: return "leaky_relu";
    case Activation::softmax: return "softmax";
    case Activation::exp: return "exp";
    case Activation::elu: return "elu";
    case Activation::softplus: return "softplus";
    case Activation::silu: return "silu";
    case Activation::gelu: return "gelu";
  }
  return "?";
}

bool is_hidden_activation(Activation g) {
  return g != Activation::softmax && g != Activation::exp;
}

bool keeps_derivative(Activation g) {
  return g == Activation::softplus || g == Activation::silu || g == Activation::gelu;
}

namespace {

// f over every row of Z: over the whole buffer at once when its rows are adjacent (a plain
// matrix), else row by row (a block of a wider matrix's columns). vector_math evaluates each
// element alike wherever it is, so both give the same values; one call over many narrow rows
// (a softmax over ten classes) saves a padded tail per row.
template <class S>
void apply_to_rows(MatrixRef<S> Z, void (*f)(S*, Index)) {
  if (Z.outerStride() == Z.cols()) {
    f(Z.data(), Z.size());
  } else {
    for (Index i = 0; i < Z.rows(); ++i) f(Z.row(i).data(), Z.cols());
  }
}

// The same for f(z, derivative, n), D (laid out as Z) receiving the derivative, or none.
template <class S>
void apply_to_rows(MatrixRef<S> Z, MatrixRef<S>* D, void (*f)(S*, S*, Index)) {
  const bool plain = Z.outerStride() == Z.cols() && (!D || D->outerStride() == D->cols());
  if (plain) {
    f(Z.data(), D ? D->data() : nullptr, Z.size());
  } else {
    for (Index i = 0; i < Z.rows(); ++i) {
      f(Z.row(i).data(), D ? D->row(i).data() : nullptr, Z.cols());
    }
  }
}

}  // namespace

template <class S>
void add_bias_and_activate(MatrixRef<S> Z, ConstVectorMap<S> b, Activation g, S slope,
                           MatrixRef<S>* derivative) {
  // Z: (n, units)  b: (units)
  // Row by row: z += b, fused with the piecewise-linear activations; the transcendental ones
  // then go through vector_math (SLEEF's vector functions) over all rows.
  const Eigen::ArrayWrapper<Eigen::Transpose<ConstVectorMap<S>>> bias = b.transpose().array();
  for (Index i = 0; i < Z.rows(); ++i) {
    Eigen::ArrayWrapper<typename MatrixRef<S>::RowXpr> z = Z.row(i).array();
    switch (g) {
      case Activation::relu: z = (z + bias).max(S(0)); break;
      case Activation::leaky_relu: {
        z += bias;
        S* __restrict zi = Z.row(i).data();  // a plain loop vectorises; Eigen 3.4's select not
        for (Index j = 0; j < Z.cols(); ++j) zi[j] = zi[j] < S(0) ? slope * zi[j] : zi[j];
        break;
      }
      case Activation::softmax:
        z += bias;
        z -= z.maxCoeff();
        break;
      default: z += bias; break;
    }
  }
  if (!keeps_derivative(g)) derivative = nullptr;
  switch (g) {
    case Activation::elu: apply_to_rows<S>(Z, elu_in_place<S>); break;
    case Activation::softplus: apply_to_rows<S>(Z, derivative, softplus_in_place<S>); break;
    case Activation::silu: apply_to_rows<S>(Z, derivative, silu_in_place<S>); break;
    case Activation::gelu: apply_to_rows<S>(Z, derivative, gelu_in_place<S>); break;
    case Activation::logistic: apply_to_rows<S>(Z, logistic_in_place<S>); break;
    case Activation::tanh: apply_to_rows<S>(Z, tanh_in_place<S>); break;
    case Activation::exp: apply_to_rows<S>(Z, exp_in_place<S>); break;
    case Activation::softmax:
      apply_to_rows<S>(Z, exp_in_place<S>);
      for (Index i = 0; i < Z.rows(); ++i) Z.row(i) /= Z.row(i).sum();
      break;
    default: break;
  }
}

template <class S>
void multiply_by_derivative(MatrixRef<S> dA, const ConstMatrixRef<S>& A, Activation g, S slope) {
  // dA, A: (n, units)
  Eigen::ArrayWrapper<MatrixRef<S>> d = dA.array();
  const Eigen::ArrayWrapper<const ConstMatrixRef<S>> a = A.array();
  switch (g) {
    case Activation::identity: break;
    case Activation::logistic: d = d * a * (S(1) - a); break;
    case Activation::tanh: d = d * (S(1) - a.square()); break;
    // elu: a > 0 exactly where z > 0; below, g'(z) = exp(z) = a + 1.
    case Activation::elu:
      for (Index i = 0; i < dA.rows(); ++i) {
        S* __restrict di = dA.row(i).data();
        const S* __restrict ai = A.row(i).data();
        for (Index j = 0; j < dA.cols(); ++j) di[j] = ai[j] > S(0) ? di[j] : di[j] * (ai[j] + 1);
      }
      break;
    case Activation::softplus:
    case Activation::silu:
    case Activation::gelu: d *= a; break;  // A is g'(z), kept by the forward pass
    // The (piecewise-linear) derivatives as plain loops over each row, which the compiler
    // vectorises at -O3 (Eigen 3.4's select compiles to a scalar loop with a branch an element
    // at -O2: 21% of a 64-256-256-10 relu fit in a RelWithDebInfo build; the -O3 release build
    // measured no different).
    case Activation::relu:
      for (Index i = 0; i < dA.rows(); ++i) {
        S* __restrict di = dA.row(i).data();
        const S* __restrict ai = A.row(i).data();
        for (Index j = 0; j < dA.cols(); ++j) di[j] = ai[j] == S(0) ? S(0) : di[j];
      }
      break;
    // a > 0 exactly where z > 0 (slope >= 0): a slope of 0 (or one underflowing slope * z)
    // gives a = -0.0 for z < 0, whose derivative is the slope, not 1.
    case Activation::leaky_relu:
      for (Index i = 0; i < dA.rows(); ++i) {
        S* __restrict di = dA.row(i).data();
        const S* __restrict ai = A.row(i).data();
        for (Index j = 0; j < dA.cols(); ++j) di[j] = ai[j] > S(0) ? di[j] : slope * di[j];
      }
      break;
    case Activation::softmax:
    case Activation::exp:
      // Output-only: the loss gives dL/dz directly. Network rejects them as hidden activations,
      // so this is never reached (and must not throw: it runs inside parallel regions).
      break;
  }
}

template void add_bias_and_activate<float>(MatrixRef<float>, ConstVectorMap<float>, Activation,
                                           float, MatrixRef<float>*);
template void add_bias_and_activate<double>(MatrixRef<double>, ConstVectorMap<double>, Activation,
                                            double, MatrixRef<double>*);
template void multiply_by_derivative<float>(MatrixRef<float>, const ConstMatrixRef<float>&,
                                            Activation, float);
template void multiply_by_derivative<double>(MatrixRef<double>, const ConstMatrixRef<double>&,
                                             Activation, double);

}  // namespace fastnn
