#include "fastnn/workspace.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "fastnn/parallel.hpp"

namespace fastnn {

namespace {
constexpr Index kMinChunkRows = 32;
constexpr Index kMaxChunks = 8;
// Item mode: from this many multiply-adds a batch, for networks with a layer of at least this
// many weights, with 16 to 64 row items and gradient tiles, about kItemMacs multiply-adds each.
// Smaller layers stay in chunk mode: repacking them for each chunk is cheap (they stay in a
// core's cache), and sharing the packed weights and the batch's activations between cores cost
// more on 2 threads (measured, 2 threads, batch 200: 64-512-10 and 64-256-256-10 8-18% slower
// in item mode, 256-256-10 equal; 784-256-128-10 15-29% faster at batch 32 to 512).
constexpr double kItemModeMacs = 1.0e6;
constexpr double kItemModeWeights = 128.0 * 1024;
constexpr double kItemMacs = 262144;
constexpr Index kMinItems = 16, kMaxItems = 64;
constexpr Index kItemAlign = 4;  // rows of an item, of a tile: a multiple of this
constexpr Index kMinItemRows = 8;   // rows of a row item: at least about this many
constexpr Index kMinTileRows = 16;  // rows of a tile: at least (the kernel reuses its panels)
constexpr Index kUpdateCost = 8;  // an optimizer's update of one parameter, in multiply-adds
// Column mode: for layers of more than this many weights; blocks of this many columns.
constexpr double kColumnModeWeights = 2048.0 * 1024;
constexpr Index kColumnBlock = 512;

double largest_layer_weights(const Network& net) {
  double largest = 0;
  for (const LayerShape& s : net.layers()) largest = std::max(largest, double(s.fan_in * s.fan_out));
  return largest;
}
}  // namespace

Index chunk_count(Index rows, Index min_rows) {
  // At least two chunks from 32 rows up (16+ rows each), so that small batches run in parallel
  // too; an even count, so that two threads (or four) get equal shares.
  if (rows < kMinChunkRows) return 1;
  const Index n = std::clamp<Index>(rows / min_rows, 2, kMaxChunks);
  return n - n % 2;
}

Index min_chunk_rows(const Network& net) {
  // Every chunk packs each weight matrix for its products, and a chunk's products get more
  // efficient with more rows: ~64 rows a chunk (measured: batch 200 of the 64-100-10 net in
  // 2 chunks trains ~15% faster than in 6; batch 128 of 784-256-128-10 in 2 chunks ~8% faster
  // than in 4). A weight matrix too large for a core's cache is streamed from memory at every
  // packing and needs more rows to pay for it; beyond kColumnModeWeights, column mode is used.
  return largest_layer_weights(net) <= 512.0 * 1024 ? 2 * kMinChunkRows : 4 * kMinChunkRows;
}

Index tile_count(const std::vector<ColumnBlocks>& column_blocks) {
  Index n_tiles = 0;
  for (const ColumnBlocks& blocks : column_blocks) n_tiles += Index(blocks.size());
  return n_tiles;
}

namespace {
// Item mode's partition: the row items (16, 32 or 64, about kItemMacs multiply-adds each, of at
// least kItemAlign rows) and the gradient tiles (as many, every layer's in proportion to its
// weights, whole multiples of kItemAlign rows), with the tiles' estimated costs.
void plan_items(const Network& net, Index batch_size, MemoryPlan& p) {
  const double macs = net.macs_per_sample() * double(batch_size);
  const Index by_macs = std::clamp<Index>(Index(macs / kItemMacs), kMinItems, kMaxItems);
  Index n_items = kMinItems;
  while (2 * n_items <= by_macs) n_items *= 2;
  p.row_items = row_item_count(batch_size, n_items);
  p.tile_cost.push_back(0);
  for (Index l = 0; l < net.n_layers(); ++l) {
    const LayerShape& s = net.layers()[size_t(l)];
    const double share = double(s.fan_in * s.fan_out) / net.macs_per_sample();
    const Index max_tiles = std::max<Index>(1, s.fan_in / kMinTileRows);
    const Index n = std::clamp<Index>(Index(std::lround(share * double(n_items))), 1, max_tiles);
    for (Index t = 0; t < n; ++t) {
      const Index r0 = t * s.fan_in / n / kItemAlign * kItemAlign;
      const Index r1 = t + 1 == n ? s.fan_in : (t + 1) * s.fan_in / n / kItemAlign * kItemAlign;
      p.tiles.push_back({l, r0, r1});
      // The product, the update of the tile's weights, the bias's sum and update.
      const double cost = double((r1 - r0) * s.fan_out) * double(batch_size + kUpdateCost) +
                          (r0 == 0 ? double(s.fan_out) * double(batch_size + kUpdateCost) : 0);
      p.tile_cost.push_back(p.tile_cost.back() + cost);
    }
  }
}
}  // namespace

Index row_item_count(Index rows, Index n_items) {
  while (n_items > 1 && rows / n_items < kMinItemRows) n_items /= 2;
  return n_items;
}

Index row_item_start(Index k, Index rows, Index n_items) {
  return k == n_items ? rows : k * rows / n_items / kItemAlign * kItemAlign;
}

MemoryPlan plan_memory(const Network& net, Index batch_size, int n_threads, bool dropout) {
  if (batch_size < 1) throw std::invalid_argument("batch_size must be >= 1");
  MemoryPlan p;
  p.column_mode = largest_layer_weights(net) > kColumnModeWeights;
  p.item_mode = !p.column_mode && largest_layer_weights(net) >= kItemModeWeights &&
                net.macs_per_sample() * double(batch_size) >= kItemModeMacs;
  p.min_chunk_rows = min_chunk_rows(net);
  // The largest block of rows any batch of <= batch_size rows produces.
  const bool whole_batch = p.column_mode || p.item_mode;
  p.max_rows = whole_batch ? batch_size : 0;
  for (Index rows = 1; rows <= batch_size && !whole_batch; ++rows) {
    const Index n_chunks = chunk_count(rows, p.min_chunk_rows);
    p.max_rows = std::max(p.max_rows, (rows + n_chunks - 1) / n_chunks);
  }
  p.n_chunk_workspaces = whole_batch ? 1 : chunk_count(batch_size, p.min_chunk_rows);
  bool residual = false;
  for (char r : net.residual_layers()) residual = residual || r;
  p.x = p.max_rows * net.n_features();  // unused for sparse X: cheap, the fit's only one
  p.y = p.max_rows * net.n_outputs();
  p.w = p.max_rows;
  p.act = p.max_rows * net.units_after_input();
  p.delta = p.act;
  p.pre = residual || dropout || keeps_derivative(net.hidden_activation()) ? p.act : 0;
  p.skip = residual ? p.max_rows * net.max_units() : 0;
  p.grad = net.n_params();
  // Every product has dimensions among the block's row count and the layer widths.
  p.gemm_dim = p.max_rows;
  for (Index u : net.layer_units()) p.gemm_dim = std::max(p.gemm_dim, u);
  p.chunk_gemm = !whole_batch;
  if (p.item_mode) {
    plan_items(net, batch_size, p);
    for (const LayerShape& s : net.layers()) {
      p.shared_weights += s.fan_in * s.fan_out;
      p.shared_deltas = std::max(p.shared_deltas, batch_size * s.fan_out);
    }
    p.n_thread_gemm = std::clamp<Index>(resolve_threads(n_threads), 1,
                                        std::max<Index>(p.row_items, Index(p.tiles.size())));
  }
  if (p.column_mode) {
    for (Index l = 0; l < net.n_layers(); ++l) {
      const Index fan_out = net.layers()[size_t(l)].fan_out;
      // The output layer stays whole: softmax needs whole rows.
      const Index n_blocks =
          l + 1 == net.n_layers() ? 1 : std::max<Index>(1, fan_out / kColumnBlock);
      ColumnBlocks& blocks = p.column_blocks.emplace_back();
      for (Index b = 0; b < n_blocks; ++b) {
        blocks.emplace_back(b * fan_out / n_blocks, (b + 1) * fan_out / n_blocks);
      }
    }
    // One GEMM workspace per thread that can have a column block or tile to work on.
    p.n_thread_gemm =
        std::clamp<Index>(resolve_threads(n_threads), 1, tile_count(p.column_blocks));
  }
  p.n_slices = (net.n_params() + kSliceSize - 1) / kSliceSize;
  return p;
}

template <class S>
Workspace<S>::Workspace(const Network& net, const MemoryPlan& plan) {
  // Eigen's buffers first: the largest, so the likeliest to fail, and they fail with
  // std::bad_alloc even under AddressSanitizer (whose operator new aborts instead).
  thread_gemm.resize(size_t(plan.n_thread_gemm));
  for (GemmWorkspace<S>& g : thread_gemm) g = GemmWorkspace<S>(plan.gemm_dim);
  if (plan.item_mode) {
    for (const LayerShape& s : net.layers()) {
      forward_weights.emplace_back(plan.gemm_dim, s.fan_in * s.fan_out);
      // The input layer has no backward product.
      const Index backward = forward_weights.size() > 1 ? s.fan_in * s.fan_out : 0;
      backward_weights.emplace_back(plan.gemm_dim, backward);
      deltas.emplace_back(plan.gemm_dim, plan.max_rows * s.fan_out);
    }
    item_loss.assign(size_t(plan.row_items), 0.0);
    item_weight.assign(size_t(plan.row_items), 0.0);
  }
  chunks.resize(size_t(plan.n_chunk_workspaces));
  for (ChunkWorkspace<S>& c : chunks) {
    c.x.resize(plan.x);
    c.y.resize(plan.y);
    c.w.resize(plan.w);
    c.act.resize(plan.act);
    c.delta.resize(plan.delta);
    c.pre.resize(plan.pre);
    c.skip.resize(plan.skip);
    c.grad.resize(plan.grad);
    if (plan.chunk_gemm) c.gemm = GemmWorkspace<S>(plan.gemm_dim);
  }
  // n_params / kSliceSize doubles, or one a gradient tile
  penalty_parts.assign(plan.item_mode ? plan.tiles.size() : size_t(plan.n_slices), 0.0);
}

template struct Workspace<float>;
template struct Workspace<double>;

}  // namespace fastnn
