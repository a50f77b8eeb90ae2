#pragma once
// Forward and backward passes over a block of rows, and inference.
//
// A block's activations live back to back in one buffer `act`: A[l] (n, units[l]) for the layers
// l = 1..L after the input (A[0] is the input X itself). Deltas dL/dZ[l] use the same layout in
// `delta`. `layer_offset(net, l, n)` locates layer l in either buffer.
#include "fastnn/gemm.hpp"
#include "fastnn/inputs.hpp"
#include "fastnn/network.hpp"
#include "fastnn/types.hpp"

namespace fastnn {

// Offset of layer l (1..L) in an activation/delta buffer holding n rows.
Index layer_offset(const Network& net, Index l, Index n);

// act: A[1..L] for the n rows of X.  X: (n, n_features)
template <class S>
void forward(S* act, GemmWorkspace<S>& gemm, const Network& net, const S* params,
             const InputRows<S>& X);

// Backpropagation of one block. On entry delta holds dL/dZ[L] (the output delta) and act the
// block's forward pass; on exit grad holds, for every layer, dW = A[l]ᵀ dZ[l+1] and
// db = Σ_rows dZ[l+1] (no penalty, no normalisation: the caller reduces blocks first).
// grad: (n_params)  delta: dL/dZ[1..L]  act: A[1..L]  X: (n, n_features)
template <class S>
void backward(S* grad, S* delta, GemmWorkspace<S>& gemm, const Network& net, const S* params,
              const InputRows<S>& X, const S* act);

// out: (n, n_outputs) = the network's output for X: (n, n_features), output activation applied.
// Rows are processed in a fixed partition of blocks, so the result is independent of n_threads.
template <class S>
void predict(MatrixMap<S> out, const LayerViews<S>& net, const FeatureMatrix<S>& X,
             int n_threads);

}  // namespace fastnn
