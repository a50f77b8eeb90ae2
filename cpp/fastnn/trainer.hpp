#pragma once
// Mini-batch training: whole epochs in one call.
//
// Three ways to cut a batch's work, chosen by the shapes alone (workspace.hpp): chunk mode,
// below; item mode (a layer of >= 128K weights and batches of >= 1M multiply-adds: row items and
// weight-gradient tiles, described at Trainer::process_item); column mode (a layer of more than
// 2M weights, described at Trainer::column_pass). All are deterministic by construction.
//
// Chunk mode: each mini-batch is cut into a fixed number of row chunks that depends only on the batch's row
// count (never on the thread count). OpenMP runs the chunks' forward/backward passes, each with
// single-threaded Eigen products into the chunk's own gradient buffer; then the parameter vector
// is cut into fixed slices and, per slice, the chunk gradients are summed in chunk order, the L2
// term added, and the optimizer step applied. Every floating-point operation therefore happens in
// the same order whatever the number of threads: results are bitwise identical.
//
// All buffers (the Workspace) are planned once, by plan_memory (workspace.hpp), and allocated
// when the Trainer is built for a fit; an epoch allocates nothing.
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "fastnn/epoch_rule.hpp"
#include "fastnn/gemm.hpp"
#include "fastnn/inputs.hpp"
#include "fastnn/kernels.hpp"
#include "fastnn/network.hpp"
#include "fastnn/optimizers.hpp"
#include "fastnn/shuffle.hpp"
#include "fastnn/types.hpp"
#include "fastnn/workspace.hpp"

namespace fastnn {

// Polled between mini-batches (at most every few milliseconds): returns true to stop the epoch.
using InterruptCheck = std::function<bool()>;

// A mini-batch whose sample weights sum to zero: its loss cannot be normalised (scikit-learn's
// np.average raises ZeroDivisionError there; the binding raises the same).
struct ZeroWeightBatch : std::domain_error {
  ZeroWeightBatch() : std::domain_error("Weights sum to zero, can't be normalized") {}
};

struct EpochResult {
  double accumulated_loss = 0;  // Σ over batches of batch_loss · batch_rows (scikit-learn's)
  Index n_batches = 0;          // batches completed
  bool interrupted = false;
};

template <class S>
class Trainer {
 public:
  // batch_size: the largest batch this trainer will see. n_threads <= 0: all allowed.
  // dropout: per weight layer, the dropout rate on its output (empty: none; the output layer's
  // must be 0), with the counter-based masks keyed by dropout_seed (see dropout.hpp).
  Trainer(Network net, Index n_features, Index batch_size, double alpha, int n_threads,
          std::vector<double> dropout = {}, std::uint64_t dropout_seed = 0);

  const Network& network() const { return net_; }
  Index batch_size() const { return batch_size_; }

  // The one way epochs run: up to max_epochs epochs of mini-batch training, each in the order
  // `order` (null: the rows in order), which `shuffler`, when given, shuffles in place first
  // (scikit-learn's shuffle=True, drawn as numpy's RandomState draws it). params: (n_params),
  // updated in place.  X: (n, n_features)  Y: (n, n_outputs)  w: (n) or nullptr  order: (n).
  // losses[e] receives epoch e's mean loss. With apply_rule, `rule` records each epoch's loss
  // and decides whether to go on (see EpochRule); without, it runs exactly one epoch
  // (max_epochs must be 1) and leaves the rule to the caller. An epoch's dropout counter is
  // rule.samples_seen at its start. Returns the number of epochs completed; *interrupted tells
  // a Ctrl-C stop. Throws std::invalid_argument on inconsistent shapes or an out-of-range index
  // in `order`, ZeroWeightBatch (before the epoch trains) when a mini-batch's weights sum to 0.
  template <class Optimizer>
  Index run_epochs(S* params, Optimizer& optimizer, const FeatureMatrix<S>& X,
                   ConstMatrixMap<S> Y, const S* w, std::int64_t* order,
                   LegacyShuffler* shuffler, Index max_epochs, EpochRule& rule, bool apply_rule,
                   double* losses, const InterruptCheck& interrupt, bool* interrupted);

  // Loss and gradient over all rows of X as one batch (needs n <= batch_size), as scikit-learn's
  // `_backprop`: loss = Σ w·row_loss / Σ w + ½·alpha·ΣW² / Σ w;  grad: (n_params).
  // With dropout, the network thinned by the masks of `epoch` (rows numbered from 0): a fixed
  // function of params, for gradient checks (L-BFGS is not offered with dropout).
  double loss_and_gradient(S* grad, const S* params, const FeatureMatrix<S>& X,
                           ConstMatrixMap<S> Y, const S* w, std::uint64_t epoch = 0);

 private:
  void check_inputs(const FeatureMatrix<S>& X, ConstMatrixMap<S> Y,
                    const std::int64_t* order) const;
  // Throws ZeroWeightBatch when a mini-batch of an epoch in `order` has weights summing to 0.
  void check_batch_weights(Index n, const S* w, const std::int64_t* order) const;
  // One epoch (inputs checked by the caller), with the time of the last Ctrl-C poll carried over.
  template <class Optimizer>
  EpochResult epoch_pass(S* params, Optimizer& optimizer, const FeatureMatrix<S>& X,
                         ConstMatrixMap<S> Y, const S* w, const std::int64_t* order,
                         const InterruptCheck& interrupt, std::uint64_t epoch,
                         std::chrono::steady_clock::time_point& last_poll);
  // Forward/backward of chunk k of the batch of `rows` rows starting at `start`.
  void process_chunk(Index k, Index n_chunks, Index start, Index rows, const S* params,
                     const FeatureMatrix<S>& X, ConstMatrixMap<S> Y, const S* w,
                     const std::int64_t* order);
  // The rows [lo, lo + n) of X in batch order: CSR rows read in place (through order); dense
  // rows from `gathered` when order is given (the caller gathered them there), else from X.
  static InputRows<S> input_rows(const FeatureMatrix<S>& X, const std::int64_t* order, Index lo,
                                 Index n, const S* gathered);
  // Row i of c's y, w and x (dense X only) = row order[i] of Y, w and X, for i in [i0, i1)
  // (`order` already offset to the block's first row).
  static void gather_rows(ChunkWorkspace<S>& c, const FeatureMatrix<S>& X, ConstMatrixMap<S> Y,
                          const S* w, const std::int64_t* order, Index i0, Index i1);
  // A block's loss and weight sums and its output delta.  out, Y: (n, n_outputs)
  // w: (n) or nullptr  delta: (n, n_outputs)
  void loss_and_output_delta(double& loss_sum, double& weight_sum, ConstMatrixMap<S> out,
                             ConstMatrixMap<S> Y, const S* w, S* delta) const;
  // Item mode (workspace.hpp): a batch's work in three phases, each split into items that the
  // team shares out statically, with a barrier after each:
  //   1. packing every layer's W for the forward and backward products (SharedOperand items);
  //   2. the row items (process_item): each gathers its rows, runs them forward through every
  //      layer, takes their loss and output delta and runs the deltas back to layer 1 -- all
  //      products with the packed weights -- and packs its rows of every layer's dL/dZ for
  //      the weight gradient;
  //   3. the gradient tiles (gradient_tile), each followed by the optimizer's update of the
  //      tile's parameters.
  // The items and tiles depend only on the shapes; every result is computed by the same
  // operations in the same order whatever the thread that runs it.
  // Points the shared operands at params and at the delta buffer of a batch of `rows` rows.
  void share_weights(const S* params, bool sparse_input);
  void share_deltas(Index rows);
  Index weight_pack_items() const;
  void pack_weights(Index t);  // item t of phase 1
  void pack_weights_share();   // the calling thread's share of phase 1, then a barrier
  // Phases 1 and 2 for the batch of `rows` rows at `start`, each ending at a barrier.
  void item_passes(Index start, Index rows, const S* params, const FeatureMatrix<S>& X,
                   ConstMatrixMap<S> Y, const S* w, const std::int64_t* order);
  Index row_items(Index rows) const { return row_item_count(rows, row_items_); }
  void process_item(Index k, Index start, Index rows, const S* params, const FeatureMatrix<S>& X,
                    ConstMatrixMap<S> Y, const S* w, const std::int64_t* order);
  // Tile t's gradient, with the L2 term, divided by sw_sum; records the tile's Σ W².
  void gradient_tile(Index t, Index start, Index rows, const S* params, const FeatureMatrix<S>& X,
                     const std::int64_t* order, double sw_sum);
  // The parameter ranges of tile t: W's rows [r0, r1), and b with the tile where r0 == 0.
  struct TileParams {
    Index lo, hi, b_lo, b_hi;
  };
  TileParams tile_params(Index t) const;
  // The batch's loss and weight sums, in item order.
  void sum_items(Index rows, double* loss_sum, double* weight_sum) const;
  // Sums the chunk gradients of slice s into chunk 0's buffer, adds the L2 term, divides by
  // sw_sum, records slice s's Σ W².
  void reduce_slice(Index s, Index n_chunks, const S* params, double sw_sum);
  // Column mode (wide layers): the whole batch is one block of rows in chunk 0's workspace, and
  // every product is split by fixed blocks of weight columns instead of rows, so each thread's
  // products have the batch's full row count (far closer to the GEMM ceiling than row chunks of
  // a wide layer) and no chunk gradients need summing. Called by every thread of the team:
  // gathers the batch, runs the forward pass layer by layer over output-column blocks (loss
  // and output delta with the last, single-block layer), the deltas layer by layer over
  // input-column blocks, then every layer's weight gradient over column tiles -- each block or
  // tile one call of kernels.hpp's column_* functions. Ends at a barrier with chunk 0 holding
  // the batch's unnormalised gradient, loss and weight sums.
  void column_pass(Index start, Index rows, const S* params, const FeatureMatrix<S>& X,
                   ConstMatrixMap<S> Y, const S* w, const std::int64_t* order);
  void sum_chunks(Index n_chunks, double* loss_sum, double* weight_sum) const;
  BlockExtras<S> extras(ChunkWorkspace<S>& c, Index first_row, Index batch_rows, Index row0);
  double penalty() const;
  int threads_for_batches() const;

  Network net_;
  Index batch_size_;
  double alpha_;
  int n_threads_;
  Index min_rows_;
  bool column_mode_;
  bool item_mode_;
  Index row_items_;                        // item mode: see MemoryPlan
  std::vector<GradientTile> tiles_;        // item mode
  std::vector<double> tile_cost_;          // item mode: cumulated, see MemoryPlan
  std::vector<double> pack_cost_;          // item mode: phase 1's items', cumulated
  std::vector<ColumnBlocks> col_blocks_;  // column mode: per layer, see MemoryPlan
  Index n_slices_;
  DropoutPlan dropout_;
  Workspace<S> ws_;
};

}  // namespace fastnn
