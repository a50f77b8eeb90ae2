#pragma once
// A fit's memory: what it needs (plan_memory, a pure function you can read and test) and the
// buffers allocated from that plan once, when a Trainer is built (Workspace). An epoch allocates
// nothing.
//
// Three ways to cut a mini-batch's work, chosen by the network and the batch size alone:
// - chunk mode (batches of fewer than 1M multiply-adds): the batch is cut into row chunks
//   (chunk_count), each with its own workspace and gradient, summed afterwards;
// - item mode (larger batches): the whole batch in one workspace, its forward and backward
//   passes cut into row items and its weight gradient into tiles of each layer's rows, with the
//   weights and deltas packed once for all of them (SharedOperand), each thread with its own
//   GEMM packing blocks (see Trainer::item_pass);
// - column mode (a layer of more than 2M weights): the whole batch in one workspace, and the
//   products split by fixed blocks of weight columns (see Trainer::column_pass).
#include <cstddef>
#include <utility>
#include <vector>

#include "fastnn/gemm.hpp"
#include "fastnn/network.hpp"
#include "fastnn/types.hpp"

namespace fastnn {

// Parameters per reduction/update slice: the gradient is summed and the optimizer steps slice by
// slice.
constexpr Index kSliceSize = 4096;

// The row chunks of a batch of `rows` rows: chunk k is [k·rows/n, (k+1)·rows/n), with about
// `min_rows` rows a chunk (a property of the network: see min_chunk_rows).
Index chunk_count(Index rows, Index min_rows);
// Item mode: the row items of a batch of `rows` rows: n_items (a full batch's: a power of two),
// halved while items would have fewer than 8 rows; item k of n starts at row_item_start(k, rows,
// n): k·rows/n rounded down to a multiple of 4 (the GEMM kernel's column panels).
Index row_item_count(Index rows, Index n_items);
Index row_item_start(Index k, Index rows, Index n_items);
Index min_chunk_rows(const Network& net);

// A layer's output columns cut into blocks [c0, c1), in order, covering [0, fan_out).
using ColumnBlocks = std::vector<std::pair<Index, Index>>;
// Column mode's weight-gradient tiles: every block of every layer.
Index tile_count(const std::vector<ColumnBlocks>& column_blocks);

// Item mode's weight-gradient tiles: rows [r0, r1) of weight layer `layer`'s W (and its b with
// the tile where r0 == 0).
struct GradientTile {
  Index layer = 0, r0 = 0, r1 = 0;
};

// Every buffer size of a fit, in elements (scalars unless said otherwise).
struct MemoryPlan {
  bool column_mode = false;  // some layer has more than 2M weights
  bool item_mode = false;    // not column mode, and batches of >= 1M multiply-adds
  Index row_items = 0;       // item mode: a full batch's row items (row_item_count)
  std::vector<GradientTile> tiles;  // item mode: the weight-gradient tiles, layer by layer
  std::vector<double> tile_cost;    // item mode: the tiles' estimated costs, cumulated (n + 1)
  Index shared_weights = 0;  // item mode: Σ fan_in·fan_out, packed for the forward (+ alignment)
  Index shared_deltas = 0;   // item mode: max_rows · max fan_out, packed per layer
  Index min_chunk_rows = 0;  // row mode: about this many rows a chunk (see chunk_count)
  Index max_rows = 0;        // the largest block of rows any batch of <= batch_size rows gives
  Index n_chunk_workspaces = 0;  // row mode: chunk_count(batch_size); column mode: 1
  // Each chunk workspace's buffers (see ChunkWorkspace):
  Index x = 0;      // max_rows · n_features
  Index y = 0;      // max_rows · n_outputs
  Index w = 0;      // max_rows
  Index act = 0;    // max_rows · Σ units[1..L]
  Index delta = 0;  // max_rows · Σ units[1..L]
  Index pre = 0;    // as act with residual layers, dropout or a kept derivative, else 0
  Index skip = 0;   // max_rows · max_units with residual layers, else 0
  Index grad = 0;   // n_params
  Index gemm_dim = 0;       // GemmWorkspace(gemm_dim): every product's dimensions are <= it
  bool chunk_gemm = false;  // each chunk workspace owns a GemmWorkspace (row mode)
  Index n_thread_gemm = 0;  // column and item modes: GemmWorkspaces, one per thread with work
  std::vector<ColumnBlocks> column_blocks;  // column mode: per weight layer; else empty
  Index n_slices = 0;  // parameter slices of kSliceSize (one double of penalty each)
};

// The plan of a Trainer for `net`, batches of at most batch_size rows, n_threads threads (<= 0:
// the calling thread's OpenMP limit, as resolve_threads) and dropout on some layer or not.
// Depends on nothing else. Throws std::invalid_argument when batch_size < 1.
MemoryPlan plan_memory(const Network& net, Index batch_size, int n_threads, bool dropout);

template <class S>
struct ChunkWorkspace {
  Vector<S> x;      // (max_rows, n_features) dense input rows gathered through the permutation
  Vector<S> y;      // (max_rows, n_outputs) targets, gathered likewise
  Vector<S> w;      // (max_rows) sample weights, gathered likewise
  Vector<S> act;    // A[1..L] of the chunk, see kernels.hpp
  Vector<S> delta;  // dL/dZ[1..L] of the chunk
  Vector<S> pre;    // g(Z[1..L]) or g'(Z[1..L]) where BlockExtras::needs_pre
  Vector<S> skip;   // (max_rows, max_units) residual layers' backward scratch
  Vector<S> grad;   // (n_params) the chunk's unnormalised gradient
  GemmWorkspace<S> gemm;  // packing blocks for the chunk's products
  double loss_sum = 0;    // Σ w_i · row_loss_i over the chunk
  double weight_sum = 0;  // Σ w_i over the chunk
};

template <class S>
struct Workspace {
  Workspace() = default;
  explicit Workspace(const Network& net, const MemoryPlan& plan);  // allocates the plan

  std::vector<GemmWorkspace<S>> thread_gemm;  // column and item modes: one per thread
  std::vector<ChunkWorkspace<S>> chunks;
  // Item mode, per weight layer: W packed for the forward and backward products, and the
  // batch's dL/dZ[l+1] packed for the weight gradient.
  std::vector<SharedOperand<S>> forward_weights, backward_weights, deltas;
  std::vector<double> item_loss, item_weight;  // item mode: per row item, summed in item order
  // Σ W² per parameter slice (chunk and column modes) or gradient tile (item mode), summed in
  // order.
  std::vector<double> penalty_parts;
};

}  // namespace fastnn
