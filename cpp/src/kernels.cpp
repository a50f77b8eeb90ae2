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

namespace {
// Where the block's rows of layer l (1..L) start in a batch buffer laid out as act.
template <class S>
Index block_offset(const Network& net, Index l, const BlockExtras<S>& extras) {
  return layer_offset(net, l, extras.batch_rows) + extras.row0 * net.layer_units()[size_t(l)];
}
}  // namespace

template <class S>
void column_forward_block(S* act, GemmWorkspace<S>& gemm, const Network& net, const S* params,
                          const InputRows<S>& X, const BlockExtras<S>& extras, Index l, Index c0,
                          Index c1, const SharedOperand<S>* weights) {
  // A_in: (n, fan_in)  W: (fan_in, fan_out)  b: (fan_out)  Z: (n, fan_out)
  // The block: Z[:, c0:c1] from W[:, c0:c1] and b[c0:c1]. A_in is X for l == 0, else A[l].
  const Index n = X.n, w = c1 - c0;
  const DenseLayer<S> layer = net.layer(params, l);
  const Index fan_in = layer.W.rows(), fan_out = layer.W.cols();
  const Index offset = block_offset(net, l + 1, extras);
  const auto A_in = [&]() -> ConstMatrixMap<S> {  // A[l]: only for l >= 1
    return ConstMatrixMap<S>(act + block_offset(net, l, extras), n, fan_in);
  };
  MatrixRef<S> Z = MatrixMap<S>(act + offset, n, fan_out).middleCols(c0, w);
  if (l == 0 && (X.csr || !weights)) {
    input_times<S>(Z, X, layer.W.middleCols(c0, w), gemm);
  } else if (weights) {
    gemm.a_b(Z, l == 0 ? X.dense : A_in(), *weights);
  } else {
    gemm.a_b(Z, A_in(), layer.W.middleCols(c0, w));
  }
  const Activation g = net.activation_of(l);
  const bool hidden_pre = l + 1 < net.n_layers() && extras.needs_pre(net, l);
  MatrixRef<S> pre = MatrixMap<S>(hidden_pre ? extras.pre + offset : act + offset, n, fan_out)
                         .middleCols(c0, w);
  add_bias_and_activate<S>(Z, ConstVectorMap<S>(layer.b.data() + c0, w), g, S(net.leaky_slope()),
                           hidden_pre ? &pre : nullptr);
  if (!hidden_pre) return;
  // A hidden layer whose output is not what its derivative is taken from: keep g(Z) in pre
  // (g'(Z) is there already where the activation keeps its derivative), add the residual input
  // (a residual layer is square: its input has the same columns), apply dropout.
  if (!keeps_derivative(g)) pre = Z;
  if (net.residual(l)) Z += A_in().middleCols(c0, w);
  if (extras.dropout_on(l)) extras.dropout->apply(Z, l, extras.first_row + extras.row0, c0);
}

template <class S>
void column_backward_block(S* delta, GemmWorkspace<S>& gemm, const Network& net, const S* params,
                           const S* act, const BlockExtras<S>& extras, Index n, Index l, Index c0,
                           Index c1, const SharedOperand<S>* weights) {
  // dZ: (n, fan_out)  W: (fan_in, fan_out)  dA: (n, fan_in)  skip: (n, fan_in)
  // The block: dA[:, c0:c1] from W[c0:c1, :], then dL/dZ[l] there.
  const Index w = c1 - c0;
  const DenseLayer<S> layer = net.layer(params, l);
  const Index fan_in = layer.W.rows(), fan_out = layer.W.cols();
  const Index offset = block_offset(net, l, extras);
  const ConstMatrixMap<S> dZ(delta + block_offset(net, l + 1, extras), n, fan_out);
  const auto skip = [&]() -> MatrixRef<S> {  // only with a residual layer l or l − 1
    return MatrixMap<S>(extras.skip + extras.row0 * fan_in, n, fan_in).middleCols(c0, w);
  };
  MatrixRef<S> dA = MatrixMap<S>(delta + offset, n, fan_in).middleCols(c0, w);
  // dA = dZ · Wᵀ, plus the residual layer's skip path (its dL/dA[l+1], kept below one layer up)
  if (weights) {
    gemm.a_bt(dA, dZ, *weights);
  } else {
    gemm.a_bt(dA, dZ, layer.W.middleRows(c0, w));
  }
  if (net.residual(l)) dA += skip();
  // Through layer l − 1's output: dropout's mask; a residual layer keeps its dL/dA[l] for the
  // layer below; times g'(z), from g(Z[l]) (pre when A[l] is not g(Z[l]) itself) or pre's
  // g'(Z[l]).
  if (extras.dropout_on(l - 1)) {
    extras.dropout->apply(dA, l - 1, extras.first_row + extras.row0, c0);
  }
  if (net.residual(l - 1)) skip() = dA;
  const S* gz = extras.needs_pre(net, l - 1) ? extras.pre : act;
  multiply_by_derivative<S>(dA, ConstMatrixMap<S>(gz + offset, n, fan_in).middleCols(c0, w),
                            net.activation_of(l - 1), S(net.leaky_slope()));
}

template <class S>
void weight_gradient_rows(S* grad, GemmWorkspace<S>& gemm, const Network& net,
                          const InputRows<S>& X, const S* act, const S* delta,
                          const SharedOperand<S>& deltas, Index l, Index r0, Index r1) {
  // A_in: (n, fan_in)  dZ: (n, fan_out)  dW: (fan_in, fan_out)  db: (fan_out)
  const Index n = X.n, h = r1 - r0;
  DenseLayerGrad<S> g = net.layer_grad(grad, l);
  const Index fan_in = g.dW.rows(), fan_out = g.dW.cols();
  const ConstMatrixMap<S> dZ(delta + layer_offset(net, l + 1, n), n, fan_out);
  if (l == 0 && X.csr) {
    input_transpose_times<S>(g.dW.middleRows(r0, h), X, dZ, gemm, r0);
  } else {
    const ConstMatrixMap<S> A_in = l == 0 ? X.dense
                                          : ConstMatrixMap<S>(act + layer_offset(net, l, n), n,
                                                              fan_in);
    gemm.at_b(g.dW.middleRows(r0, h), A_in.middleCols(r0, h), deltas);
  }
  if (r0 > 0) return;
  g.db.setZero();
  for (Index i = 0; i < n; ++i) g.db += dZ.row(i).transpose();
}

template <class S>
void column_weight_gradient_tile(S* grad, GemmWorkspace<S>& gemm, const Network& net,
                                 const InputRows<S>& X, const S* act, const S* delta, Index l,
                                 Index c0, Index c1) {
  // A_in: (n, fan_in)  dZ: (n, fan_out)  dW: (fan_in, fan_out)  db: (fan_out)
  // The tile: dW[:, c0:c1] and db[c0:c1]. A_in is X for l == 0, else A[l].
  const Index n = X.n, w = c1 - c0;
  DenseLayerGrad<S> g = net.layer_grad(grad, l);
  const Index fan_in = g.dW.rows(), fan_out = g.dW.cols();
  const ConstMatrixMap<S> dZ(delta + layer_offset(net, l + 1, n), n, fan_out);
  if (l == 0) {
    input_transpose_times<S>(g.dW.middleCols(c0, w), X, dZ.middleCols(c0, w), gemm);
  } else {
    gemm.at_b(g.dW.middleCols(c0, w), ConstMatrixMap<S>(act + layer_offset(net, l, n), n, fan_in),
              dZ.middleCols(c0, w));
  }
  Eigen::VectorBlock<VectorMap<S>> db = g.db.segment(c0, w);
  db.setZero();
  for (Index i = 0; i < n; ++i) db += dZ.row(i).segment(c0, w).transpose();
}

template <class S>
void forward(S* act, GemmWorkspace<S>& gemm, const Network& net, const S* params,
             const InputRows<S>& X, const BlockExtras<S>& extras) {
  for (Index l = 0; l < net.n_layers(); ++l) {  // each layer's columns as one block
    column_forward_block<S>(act, gemm, net, params, X, extras, l, 0,
                            net.layers()[size_t(l)].fan_out);
  }
}

template <class S>
void backward(S* grad, S* delta, GemmWorkspace<S>& gemm, const Network& net, const S* params,
              const InputRows<S>& X, const S* act, const BlockExtras<S>& extras) {
  for (Index l = net.n_layers() - 1; l >= 0; --l) {  // each layer's columns as one block
    const LayerShape& s = net.layers()[size_t(l)];
    column_weight_gradient_tile<S>(grad, gemm, net, X, act, delta, l, 0, s.fan_out);
    if (l >= 1) {
      column_backward_block<S>(delta, gemm, net, params, act, extras, X.n, l, 0, s.fan_in);
    }
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
    for (Vector<S>& b : buffers) b.resize(block_rows * max_units);
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
  template void column_forward_block<S>(S*, GemmWorkspace<S>&, const Network&, const S*,          \
                                        const InputRows<S>&, const BlockExtras<S>&, Index, Index,  \
                                        Index, const SharedOperand<S>*);                           \
  template void column_backward_block<S>(S*, GemmWorkspace<S>&, const Network&, const S*,         \
                                         const S*, const BlockExtras<S>&, Index, Index, Index,     \
                                         Index, const SharedOperand<S>*);                          \
  template void weight_gradient_rows<S>(S*, GemmWorkspace<S>&, const Network&,                    \
                                        const InputRows<S>&, const S*, const S*,                   \
                                        const SharedOperand<S>&, Index, Index, Index);             \
  template void column_weight_gradient_tile<S>(S*, GemmWorkspace<S>&, const Network&,             \
                                               const InputRows<S>&, const S*, const S*, Index,     \
                                               Index, Index);                                      \
  template void forward<S>(S*, GemmWorkspace<S>&, const Network&, const S*,                       \
                           const InputRows<S>&, const BlockExtras<S>&);                           \
  template void backward<S>(S*, S*, GemmWorkspace<S>&, const Network&, const S*,                  \
                            const InputRows<S>&, const S*, const BlockExtras<S>&);                \
  template void predict<S>(MatrixMap<S>, const LayerViews<S>&, const FeatureMatrix<S>&, int);
FASTNN_INSTANTIATE(float)
FASTNN_INSTANTIATE(double)
#undef FASTNN_INSTANTIATE

}  // namespace fastnn
