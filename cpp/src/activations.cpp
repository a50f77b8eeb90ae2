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
  }
  return "?";
}

bool is_hidden_activation(Activation g) {
  return g != Activation::softmax && g != Activation::exp;
}

template <class S>
void add_bias_and_activate(MatrixRef<S> Z, ConstVectorMap<S> b, Activation g, S slope) {
  // Z: (n, units)  b: (units)
  // tanh, exp and logistic go through vector_math (SLEEF's vector functions): a row is contiguous.
  const Eigen::ArrayWrapper<Eigen::Transpose<ConstVectorMap<S>>> bias = b.transpose().array();
  const Index units = Z.cols();
  for (Index i = 0; i < Z.rows(); ++i) {
    Eigen::ArrayWrapper<typename MatrixRef<S>::RowXpr> z = Z.row(i).array();
    S* row = Z.row(i).data();
    switch (g) {
      case Activation::identity: z += bias; break;
      case Activation::logistic:
        z += bias;
        logistic_in_place(row, units);
        break;
      case Activation::tanh:
        z += bias;
        tanh_in_place(row, units);
        break;
      case Activation::relu: z = (z + bias).max(S(0)); break;
      case Activation::leaky_relu: {
        z += bias;
        z = (z < S(0)).select(slope * z, z);
        break;
      }
      case Activation::exp:
        z += bias;
        exp_in_place(row, units);
        break;
      case Activation::softmax: {
        z += bias;
        const S top = z.maxCoeff();
        z -= top;
        exp_in_place(row, units);
        z /= z.sum();
        break;
      }
    }
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
    case Activation::relu: d = (a == S(0)).select(S(0), d); break;
    // a > 0 exactly where z > 0 (slope >= 0): a slope of 0 (or one underflowing slope * z)
    // gives a = -0.0 for z < 0, whose derivative is the slope, not 1.
    case Activation::leaky_relu: d = (a > S(0)).select(d, slope * d); break;
    case Activation::softmax:
    case Activation::exp:
      // Output-only: the loss gives dL/dz directly. Network rejects them as hidden activations,
      // so this is never reached (and must not throw: it runs inside parallel regions).
      break;
  }
}

template void add_bias_and_activate<float>(MatrixRef<float>, ConstVectorMap<float>, Activation,
                                           float);
template void add_bias_and_activate<double>(MatrixRef<double>, ConstVectorMap<double>, Activation,
                                            double);
template void multiply_by_derivative<float>(MatrixRef<float>, const ConstMatrixRef<float>&,
                                            Activation, float);
template void multiply_by_derivative<double>(MatrixRef<double>, const ConstMatrixRef<double>&,
                                             Activation, double);

}  // namespace fastnn
