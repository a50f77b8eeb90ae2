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
void finish_hidden_forward(MatrixRef<S> Z, const ConstMatrixRef<S>& A_in, MatrixRef<S> pre,
                           const Network& net, Index l, const BlockExtras<S>& extras, Index col) {
  if (!extras.needs_pre(net, l)) return;
  pre = Z;
  if (net.residual(l)) Z += A_in;
  if (extras.dropout_on(l)) extras.dropout->apply(Z, l, extras.first_row, col);
}

template <class S>
void finish_hidden_backward(MatrixRef<S> dA, const ConstMatrixRef<S>& gz, MatrixRef<S> skip,
                            const Network& net, Index l, const BlockExtras<S>& extras,
                            Index col) {
  if (extras.dropout_on(l)) extras.dropout->apply(dA, l, extras.first_row, col);
  if (net.residual(l)) skip = dA;
  multiply_by_derivative<S>(dA, gz, net.activation_of(l), S(net.leaky_slope()));
}

template <class S>
void forward(S* act, GemmWorkspace<S>& gemm, const Network& net, const S* params,
             const InputRows<S>& X, const BlockExtras<S>& extras) {
  const Index n = X.n;
  const S slope = S(net.leaky_slope());
  for (Index l = 0; l < net.n_layers(); ++l) {
    const DenseLayer<S> layer = net.layer(params, l);
    // A_in: (n, fan_in)  W: (fan_in, fan_out)  Z: (n, fan_out)
    const Index offset = layer_offset(net, l + 1, n);
    MatrixMap<S> Z(act + offset, n, layer.W.cols());
    ConstMatrixMap<S> A_in(act + layer_offset(net, l, n), n, layer.W.rows());  // l >= 1
    if (l == 0) {
      input_times<S>(Z, X, layer.W, gemm);
    } else {
      gemm.a_b(Z, A_in, layer.W);
    }
    add_bias_and_activate<S>(Z, layer.b, net.activation_of(l), slope);
    if (l + 1 < net.n_layers() && extras.needs_pre(net, l)) {
      finish_hidden_forward<S>(Z, A_in, MatrixMap<S>(extras.pre + offset, n, Z.cols()), net, l,
                               extras, 0);
    }
  }
}

template <class S>
void backward(S* grad, S* delta, GemmWorkspace<S>& gemm, const Network& net, const S* params,
              const InputRows<S>& X, const S* act, const BlockExtras<S>& extras) {
  const Index n = X.n;
  for (Index l = net.n_layers() - 1; l >= 0; --l) {
    const DenseLayer<S> layer = net.layer(params, l);
    DenseLayerGrad<S> g = net.layer_grad(grad, l);
    const Index fan_in = layer.W.rows(), fan_out = layer.W.cols();
    // A_in: (n, fan_in)  dZ: (n, fan_out)  dW: (fan_in, fan_out)  db: (fan_out)
    ConstMatrixMap<S> dZ(delta + layer_offset(net, l + 1, n), n, fan_out);
    g.db.setZero();
    for (Index i = 0; i < n; ++i) g.db += dZ.row(i).transpose();
    if (l == 0) {
      input_transpose_times<S>(g.dW, X, dZ, gemm);
      break;
    }
    const Index offset = layer_offset(net, l, n);
    ConstMatrixMap<S> A_in(act + offset, n, fan_in);
    gemm.at_b(g.dW, A_in, dZ);
    // dA_in: (n, fan_in) = dZ · Wᵀ (+ the residual path), then through layer l − 1's output
    MatrixMap<S> dA_in(delta + offset, n, fan_in);
    gemm.a_bt(dA_in, dZ, layer.W);
    MatrixMap<S> skip(extras.skip, n, fan_in);
    if (net.residual(l)) dA_in += skip;
    const S* gz = extras.needs_pre(net, l - 1) ? extras.pre + offset : act + offset;
    finish_hidden_backward<S>(dA_in, ConstMatrixMap<S>(gz, n, fan_in), skip, net, l - 1, extras,
                              0);
  }
}

template <class S>
void predict(MatrixMap<S> out, const LayerViews<S>& net, const FeatureMatrix<S>& X,
             int n_threads) {
  const Index n = X.rows();
  const Index n_blocks = (n + kPredictBlockRows - 1) / kPredictBlockRows;
  const int threads =
      int(std::min<Index>(resolve_threads(n_threads), std::max<Index>(n_blocks, 1)));
  const Index L = Index(net.layers.size());
  const S slope = S(net.leaky_slope);
  const Index block_rows = std::min(kPredictBlockRows, n);
  Index max_dim = std::max(block_rows, net.n_features()), max_units = 0;
  for (const DenseLayer<S>& layer : net.layers) {
    max_dim = std::max(max_dim, layer.W.cols());
    max_units = std::max(max_units, layer.W.cols());
  }
  run_in_team(threads, [&] {
    // Two ping-pong buffers of one block, Eigen-aligned: vectorised exp/tanh peel to alignment,
    // so activations are evaluated only where alignment is fixed, never in the caller's memory.
    Vector<S> buffers[2];
    for (auto& b : buffers) b.resize(block_rows * max_units);
    // One-row blocks are vector products (GEMV), which need no packing blocks: plan none.
    GemmWorkspace<S> gemm = block_rows > 1 ? GemmWorkspace<S>(max_dim) : GemmWorkspace<S>();
#pragma omp for schedule(static)
    for (Index k = 0; k < n_blocks; ++k) {
      const Index lo = k * kPredictBlockRows, rows = std::min(kPredictBlockRows, n - lo);
      const InputRows<S> input =
          X.sparse() ? InputRows<S>::csr_rows(X.csr(), nullptr, lo, rows)
                     : InputRows<S>::dense_rows(X.dense().data() + lo * X.cols(), rows, X.cols());
      const S* a = nullptr;
      for (Index l = 0; l < L; ++l) {
        const DenseLayer<S>& layer = net.layers[size_t(l)];
        // A_in: (rows, fan_in)  W: (fan_in, fan_out)  Z: (rows, fan_out)
        MatrixMap<S> Z(buffers[l % 2].data(), rows, layer.W.cols());
        if (l == 0) {
          input_times<S>(Z, input, layer.W, gemm);
        } else {
          gemm.a_b(Z, ConstMatrixMap<S>(a, rows, layer.W.rows()), layer.W);
        }
        add_bias_and_activate<S>(Z, ConstVectorMap<S>(layer.b.data(), layer.b.size()),
                                 net.activation_of(l), slope);
        if (net.is_residual(l)) Z += ConstMatrixMap<S>(a, rows, Z.cols());
        a = Z.data();
      }
      out.middleRows(lo, rows) = ConstMatrixMap<S>(a, rows, out.cols());
    }
  });
}

#define FASTNN_INSTANTIATE(S)                                                                     \
  template void finish_hidden_forward<S>(MatrixRef<S>, const ConstMatrixRef<S>&, MatrixRef<S>,    \
                                         const Network&, Index, const BlockExtras<S>&, Index);    \
  template void finish_hidden_backward<S>(MatrixRef<S>, const ConstMatrixRef<S>&, MatrixRef<S>,   \
                                          const Network&, Index, const BlockExtras<S>&, Index);   \
  template void forward<S>(S*, GemmWorkspace<S>&, const Network&, const S*,                       \
                           const InputRows<S>&, const BlockExtras<S>&);                           \
  template void backward<S>(S*, S*, GemmWorkspace<S>&, const Network&, const S*,                  \
                            const InputRows<S>&, const S*, const BlockExtras<S>&);                \
  template void predict<S>(MatrixMap<S>, const LayerViews<S>&, const FeatureMatrix<S>&, int);
FASTNN_INSTANTIATE(float)
FASTNN_INSTANTIATE(double)
#undef FASTNN_INSTANTIATE

}  // namespace fastnn
