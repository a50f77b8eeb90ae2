#pragma once
// Forward and backward passes over a block of rows -- whole layers, or one block of a layer's
// columns at a time -- and inference.
//
// A block's activations live back to back in one buffer `act`: A[l] (n, units[l]) for the layers
// l = 1..L after the input (A[0] is the input X itself). Deltas dL/dZ[l] use the same layout in
// `delta`. `layer_offset(net, l, n)` locates layer l in either buffer.
#include "fastnn/dropout.hpp"
#include "fastnn/gemm.hpp"
#include "fastnn/inputs.hpp"
#include "fastnn/network.hpp"
#include "fastnn/types.hpp"

namespace fastnn {

// Offset of layer l (1..L) in an activation/delta buffer holding n rows.
Index layer_offset(const Network& net, Index l, Index n);

// What a block needs beyond act/delta when the network has residual layers, trains with dropout
// or its hidden activation keeps its derivative. A hidden layer's output A[l+1] is then not what
// the backward pass takes g'(z) from, so that is kept in `pre` (same layout as act): g(Z), or
// g'(Z) itself where keeps_derivative (activations.hpp).
//
// A block may be some rows of a batch whose buffers (act, delta, pre; skip with each residual
// layer's width as its row length) hold batch_rows rows: the block's are rows [row0, row0 + n).
template <class S>
struct BlockExtras {
  S* pre = nullptr;    // g(Z[1..L]) or g'(Z[1..L]) of the layers that need it (needs_pre)
  S* skip = nullptr;   // (batch_rows, max hidden units): backward scratch of residual layers
  const DropoutPlan* dropout = nullptr;  // training with dropout, else null
  Index first_row = 0;  // the batch's first row's position in the epoch (dropout's counter)
  Index batch_rows = 0;  // the rows the buffers hold
  Index row0 = 0;        // the block's first row among them

  bool dropout_on(Index l) const { return dropout && dropout->on(l); }
  // Whether weight layer l's g(Z) or g'(Z) is kept apart from its output A[l+1].
  bool needs_pre(const Network& net, Index l) const {
    return net.residual(l) || dropout_on(l) || keeps_derivative(net.activation_of(l));
  }
};

// The passes one block of columns at a time. Row chunks run each layer as one block (c0 = 0,
// c1 = the layer's width); column mode (see Trainer::column_pass) runs the blocks of a layer on
// different threads over the whole batch, so these functions write only their own block.

// Weight layer l's output columns [c0, c1) for the n rows of X: A[l+1][:, c0:c1] in act (and
// g(Z) or g'(Z) in extras.pre when needs_pre), from X (l == 0) or A[l] in act (all of A[l]'s columns).
// With `weights` (all columns: c0 = 0, c1 = fan_out), the product takes W packed there for
// GemmWorkspace::a_b (sparse X excepted), instead of packing W itself.
// act: A[1..L]  X: (n, n_features)
template <class S>
void column_forward_block(S* act, GemmWorkspace<S>& gemm, const Network& net, const S* params,
                          const InputRows<S>& X, const BlockExtras<S>& extras, Index l, Index c0,
                          Index c1, const SharedOperand<S>* weights = nullptr);

// Weight layer l's (l >= 1) input columns [c0, c1) for a block of n rows: dL/dZ[l][:, c0:c1] in
// delta from all of dL/dZ[l+1] (residual layers' skip path through extras.skip). With `weights`
// (all columns), W packed there for GemmWorkspace::a_bt.
// delta: dL/dZ[1..L]  act: A[1..L]
template <class S>
void column_backward_block(S* delta, GemmWorkspace<S>& gemm, const Network& net, const S* params,
                           const S* act, const BlockExtras<S>& extras, Index n, Index l, Index c0,
                           Index c1, const SharedOperand<S>* weights = nullptr);

// Weight layer l's gradient rows [r0, r1), dW[r0:r1, :] = A[l][:, r0:r1]ᵀ dZ[l+1], over all rows
// of a batch, with dZ[l+1] packed in `deltas` (for GemmWorkspace::at_b); db = Σ_rows dZ[l+1]
// too when r0 == 0. A[0] = X. No penalty, no normalisation.
// grad: (n_params)  X: (n, n_features)  act: A[1..L]  delta: dL/dZ[1..L]
template <class S>
void weight_gradient_rows(S* grad, GemmWorkspace<S>& gemm, const Network& net,
                          const InputRows<S>& X, const S* act, const S* delta,
                          const SharedOperand<S>& deltas, Index l, Index r0, Index r1);

// Weight layer l's gradient in columns [c0, c1): dW[:, c0:c1] = A[l]ᵀ dZ[l+1][:, c0:c1] and
// db[c0:c1] = Σ_rows dZ[l+1][:, c0:c1], with A[0] = X (no penalty, no normalisation).
// grad: (n_params)  X: (n, n_features)  act: A[1..L]  delta: dL/dZ[1..L]
template <class S>
void column_weight_gradient_tile(S* grad, GemmWorkspace<S>& gemm, const Network& net,
                                 const InputRows<S>& X, const S* act, const S* delta, Index l,
                                 Index c0, Index c1);

// act: A[1..L] for the n rows of X.  X: (n, n_features)
template <class S>
void forward(S* act, GemmWorkspace<S>& gemm, const Network& net, const S* params,
             const InputRows<S>& X, const BlockExtras<S>& extras);

// Backpropagation of one block. On entry delta holds dL/dZ[L] (the output delta) and act the
// block's forward pass; on exit grad holds, for every layer, dW = A[l]ᵀ dZ[l+1] and
// db = Σ_rows dZ[l+1] (no penalty, no normalisation: the caller reduces blocks first).
// grad: (n_params)  delta: dL/dZ[1..L]  act: A[1..L]  X: (n, n_features)
template <class S>
void backward(S* grad, S* delta, GemmWorkspace<S>& gemm, const Network& net, const S* params,
              const InputRows<S>& X, const S* act, const BlockExtras<S>& extras);

// out: (n, n_outputs) = the network's output for X: (n, n_features), output activation applied.
// Rows are processed in a fixed partition of blocks, so the result is independent of n_threads.
template <class S>
void predict(MatrixMap<S> out, const LayerViews<S>& net, const FeatureMatrix<S>& X,
             int n_threads);

}  // namespace fastnn
