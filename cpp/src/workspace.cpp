#include "fastnn/workspace.hpp"

#include <algorithm>
#include <stdexcept>

#include "fastnn/parallel.hpp"

namespace fastnn {

namespace {
constexpr Index kMinChunkRows = 32;
constexpr Index kMaxChunks = 8;
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

MemoryPlan plan_memory(const Network& net, Index batch_size, int n_threads, bool dropout) {
  if (batch_size < 1) throw std::invalid_argument("batch_size must be >= 1");
  MemoryPlan p;
  p.column_mode = largest_layer_weights(net) > kColumnModeWeights;
  p.min_chunk_rows = min_chunk_rows(net);
  // The largest block of rows any batch of <= batch_size rows produces.
  p.max_rows = p.column_mode ? batch_size : 0;
  for (Index rows = 1; rows <= batch_size && !p.column_mode; ++rows) {
    const Index n_chunks = chunk_count(rows, p.min_chunk_rows);
    p.max_rows = std::max(p.max_rows, (rows + n_chunks - 1) / n_chunks);
  }
  p.n_chunk_workspaces = p.column_mode ? 1 : chunk_count(batch_size, p.min_chunk_rows);
  bool residual = false;
  for (char r : net.residual_layers()) residual = residual || r;
  p.x = p.max_rows * net.n_features();  // unused for sparse X: cheap, the fit's only one
  p.y = p.max_rows * net.n_outputs();
  p.w = p.max_rows;
  p.act = p.max_rows * net.units_after_input();
  p.delta = p.act;
  p.pre = residual || dropout ? p.act : 0;
  p.skip = residual ? p.max_rows * net.max_units() : 0;
  p.grad = net.n_params();
  // Every product has dimensions among the block's row count and the layer widths.
  p.gemm_dim = p.max_rows;
  for (Index u : net.layer_units()) p.gemm_dim = std::max(p.gemm_dim, u);
  p.chunk_gemm = !p.column_mode;
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
Workspace<S>::Workspace(const MemoryPlan& plan) {
  // Eigen's buffers first: the largest, so the likeliest to fail, and they fail with
  // std::bad_alloc even under AddressSanitizer (whose operator new aborts instead).
  thread_gemm.resize(size_t(plan.n_thread_gemm));
  for (GemmWorkspace<S>& g : thread_gemm) g = GemmWorkspace<S>(plan.gemm_dim);
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
  penalty_parts.assign(size_t(plan.n_slices), 0.0);  // n_params / kSliceSize doubles
}

template struct Workspace<float>;
template struct Workspace<double>;

}  // namespace fastnn
