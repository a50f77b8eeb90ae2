#include "fastnn/kernels.hpp"

#include <algorithm>

#include "fastnn/activations.hpp"
#include "fastnn/parallel.hpp"

namespace fastnn {

namespace {
constexpr Index kPredictBlockRows = 256;
}

Index layer_offset(const Network& net, Index l, Index n) {
  Index units = 0;
  for (Index k = 1; k < l; ++k) units += net.layer_units()[size_t(k)];
  return units * n;
}

template <class S>
void forward(S* act, GemmWorkspace<S>& gemm, const Network& net, const S* params,
             ConstMatrixMap<S> X) {
  const Index n = X.rows();
  const S slope = S(net.leaky_slope());
  const S* input = X.data();
  for (Index l = 0; l < net.n_layers(); ++l) {
    const DenseLayer<S> layer = net.layer(params, l);
    // A_in: (n, fan_in)  W: (fan_in, fan_out)  Z: (n, fan_out)
    ConstMatrixMap<S> A_in(input, n, layer.W.rows());
    MatrixMap<S> Z(act + layer_offset(net, l + 1, n), n, layer.W.cols());
    gemm.a_b(Z, A_in, layer.W);
    add_bias_and_activate<S>(Z, layer.b, net.activation_of(l), slope);
    input = Z.data();
  }
}

template <class S>
void backward(S* grad, S* delta, GemmWorkspace<S>& gemm, const Network& net, const S* params,
              ConstMatrixMap<S> X, const S* act) {
  const Index n = X.rows();
  const S slope = S(net.leaky_slope());
  for (Index l = net.n_layers() - 1; l >= 0; --l) {
    const DenseLayer<S> layer = net.layer(params, l);
    DenseLayerGrad<S> g = net.layer_grad(grad, l);
    const Index fan_in = layer.W.rows(), fan_out = layer.W.cols();
    // A_in: (n, fan_in)  dZ: (n, fan_out)  dW: (fan_in, fan_out)  db: (fan_out)
    ConstMatrixMap<S> A_in(l == 0 ? X.data() : act + layer_offset(net, l, n), n, fan_in);
    ConstMatrixMap<S> dZ(delta + layer_offset(net, l + 1, n), n, fan_out);
    gemm.at_b(g.dW, A_in, dZ);
    g.db.setZero();
    for (Index i = 0; i < n; ++i) g.db += dZ.row(i).transpose();
    if (l > 0) {
      // dA_in: (n, fan_in) = dZ · Wᵀ, then times g'(z) of layer l's activation
      MatrixMap<S> dA_in(delta + layer_offset(net, l, n), n, fan_in);
      gemm.a_bt(dA_in, dZ, layer.W);
      multiply_by_derivative<S>(dA_in, ConstMatrixMap<S>(A_in.data(), n, fan_in),
                                net.activation_of(l - 1), slope);
    }
  }
}

template <class S>
void predict(MatrixMap<S> out, const Network& net, const S* params, ConstMatrixMap<S> X,
             int n_threads) {
  const Index n = X.rows();
  const Index n_blocks = (n + kPredictBlockRows - 1) / kPredictBlockRows;
  const int threads = int(std::min<Index>(resolve_threads(n_threads), std::max<Index>(n_blocks, 1)));
  const Index L = net.n_layers();
  const S slope = S(net.leaky_slope());
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    // Two ping-pong buffers of one block, Eigen-aligned: vectorised exp/tanh peel to alignment,
    // so activations are evaluated only where alignment is fixed, never in the caller's memory.
    Vector<S> buffers[2];
    for (auto& b : buffers) b.resize(std::min(kPredictBlockRows, n) * net.max_units());
#pragma omp for schedule(static)
    for (Index k = 0; k < n_blocks; ++k) {
      const Index lo = k * kPredictBlockRows, rows = std::min(kPredictBlockRows, n - lo);
      const S* input = X.data() + lo * X.cols();
      for (Index l = 0; l < L; ++l) {
        const DenseLayer<S> layer = net.layer(params, l);
        // A_in: (rows, fan_in)  W: (fan_in, fan_out)  Z: (rows, fan_out)
        ConstMatrixMap<S> A_in(input, rows, layer.W.rows());
        MatrixMap<S> Z(buffers[l % 2].data(), rows, layer.W.cols());
        Z.noalias() = A_in * layer.W;
        add_bias_and_activate<S>(Z, layer.b, net.activation_of(l), slope);
        input = Z.data();
      }
      out.middleRows(lo, rows) = ConstMatrixMap<S>(input, rows, out.cols());
    }
  }
}

#define FASTNN_INSTANTIATE(S)                                                                    \
  template void forward<S>(S*, GemmWorkspace<S>&, const Network&, const S*, ConstMatrixMap<S>);  \
  template void backward<S>(S*, S*, GemmWorkspace<S>&, const Network&, const S*,                 \
                            ConstMatrixMap<S>, const S*);                                        \
  template void predict<S>(MatrixMap<S>, const Network&, const S*, ConstMatrixMap<S>, int);
FASTNN_INSTANTIATE(float)
FASTNN_INSTANTIATE(double)
#undef FASTNN_INSTANTIATE

}  // namespace fastnn
