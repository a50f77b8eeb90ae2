#include "fastnn/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "fastnn/kernels.hpp"
#include "fastnn/lanes.hpp"
#include "fastnn/losses.hpp"
#include "fastnn/parallel.hpp"

namespace fastnn {

namespace {
// Below this many multiply-adds per batch, threads cost more than they save. Measured on 2 cores
// (1-thread / 2-thread fit time): 20000 x 40 regressions with hidden (100,), (50,), (25,) at
// batch 200 -- 820k, 410k, 205k -- 1.35x, 1.33-1.61x, 1.33-1.46x faster on 2 threads; the
// breast cancer classifier (620k) 1.25x, digits (1.48M) 1.45x; from 13k to 82k multiply-adds a
// batch 0.87-1.09x.
constexpr double kMinParallelMacs = 2.0e5;
constexpr auto kInterruptPollInterval = std::chrono::milliseconds(20);
constexpr Index kGatherRows = 64;  // column mode: rows a gather block
}  // namespace

template <class S>
Trainer<S>::Trainer(Network net, Index n_features, Index batch_size, double alpha, int n_threads,
                    std::vector<double> dropout, std::uint64_t dropout_seed)
    : net_(std::move(net)), batch_size_(batch_size), alpha_(alpha), n_threads_(n_threads) {
  if (n_features != net_.n_features()) {
    throw std::invalid_argument("X has " + std::to_string(n_features) +
                                " features, but the network expects " +
                                std::to_string(net_.n_features()));
  }
  if (!(alpha_ >= 0)) throw std::invalid_argument("alpha must be >= 0");
  if (!dropout.empty()) {
    if (Index(dropout.size()) != net_.n_layers()) {
      throw std::invalid_argument("dropout needs one rate per layer");
    }
    for (double r : dropout) {
      if (!(r >= 0 && r < 1)) throw std::invalid_argument("dropout rates must be in [0, 1)");
    }
    if (dropout.back() != 0) throw std::invalid_argument("the output layer has no dropout");
  }
  dropout_.rates = std::move(dropout);
  dropout_.seed = dropout_seed;
  // plan_memory checks batch_size.
  MemoryPlan plan = plan_memory(net_, batch_size_, n_threads_, dropout_.any());
  ws_ = Workspace<S>(net_, plan);
  min_rows_ = plan.min_chunk_rows;
  column_mode_ = plan.column_mode;
  item_mode_ = plan.item_mode;
  row_items_ = plan.row_items;
  tiles_ = std::move(plan.tiles);
  tile_cost_ = std::move(plan.tile_cost);
  if (item_mode_) {
    // Room for phase 1's costs: dense input (sparse X has fewer items). A stand-in parameter
    // vector of the right size: the items depend on the shapes only.
    share_weights(ws_.chunks[0].grad.data(), false);
    pack_cost_.reserve(size_t(weight_pack_items() + 1));
  }
  col_blocks_ = std::move(plan.column_blocks);
  n_slices_ = plan.n_slices;
}

template <class S>
void Trainer<S>::check_inputs(const FeatureMatrix<S>& X, ConstMatrixMap<S> Y,
                              const std::int64_t* order) const {
  if (X.cols() != net_.n_features()) {
    throw std::invalid_argument("X has " + std::to_string(X.cols()) +
                                " features, but the network expects " +
                                std::to_string(net_.n_features()));
  }
  if (Y.rows() != X.rows() || Y.cols() != net_.n_outputs()) {
    throw std::invalid_argument("Y must have shape (" + std::to_string(X.rows()) + ", " +
                                std::to_string(net_.n_outputs()) + ")");
  }
  if (order) {
    for (Index i = 0; i < X.rows(); ++i) {
      if (order[i] < 0 || order[i] >= X.rows()) {
        throw std::invalid_argument("order holds a row index out of range");
      }
    }
  }
}

template <class S>
InputRows<S> Trainer<S>::input_rows(const FeatureMatrix<S>& X, const std::int64_t* order,
                                    Index lo, Index n, const S* gathered) {
  if (X.sparse()) return InputRows<S>::csr_rows(X.csr(), order ? order + lo : nullptr, lo, n);
  if (order) return InputRows<S>::dense_rows(gathered, n, X.cols());
  return InputRows<S>::dense_rows(X.dense().data() + lo * X.cols(), n, X.cols());
}

template <class S>
void Trainer<S>::gather_rows(ChunkWorkspace<S>& c, const FeatureMatrix<S>& X,
                             ConstMatrixMap<S> Y, const S* w, const std::int64_t* order,
                             Index i0, Index i1) {
  const Index n_features = X.cols(), n_outputs = Y.cols();
  MatrixMap<S> Yb(c.y.data(), i1, n_outputs), Xb(c.x.data(), i1, n_features);
  for (Index i = i0; i < i1; ++i) {
    const Index r = Index(order[i]);
    Yb.row(i) = Y.row(r);
    if (w) c.w[i] = w[r];
    if (!X.sparse()) Xb.row(i) = X.dense().row(r);
  }
}

namespace {
// Reductions over memory the caller owns, in an order fixed by the data alone. Eigen's own
// reductions start their vector loop at the first aligned element, so which terms they add
// together -- and the rounding -- depended on where numpy put the array.

// Σ x_i², in S, in lanes (fastnn/lanes.hpp).  x: (n)
template <class S>
double sum_of_squares(const S* x, Index n) {
  return double(sum_in_lanes(x, n, [](const auto& v) { return v * v; }));
}
}  // namespace

template <class S>
void Trainer<S>::loss_and_output_delta(double& loss_sum, double& weight_sum,
                                       ConstMatrixMap<S> out, ConstMatrixMap<S> Y, const S* w,
                                       S* delta) const {
  const Index n = out.rows();
  loss_sum = weighted_loss_sum<S>(out, Y, w, net_.loss(), net_.loss_param());
  weight_sum = fastnn::weight_sum(w, n);
  output_delta<S>(MatrixMap<S>(delta, n, out.cols()), out, Y, w, net_.loss(), net_.loss_param());
}

template <class S>
void Trainer<S>::process_chunk(Index k, Index n_chunks, Index start, Index rows, const S* params,
                               const FeatureMatrix<S>& X, ConstMatrixMap<S> Y, const S* w,
                               const std::int64_t* order) {
  ChunkWorkspace<S>& c = ws_.chunks[size_t(k)];
  const Index lo = start + k * rows / n_chunks;
  const Index n = start + (k + 1) * rows / n_chunks - lo;
  const Index n_outputs = Y.cols();
  const S* y = Y.data() + lo * n_outputs;
  const S* wc = w ? w + lo : nullptr;
  if (order) {
    // Gather the chunk's targets, weights and dense input rows: (n, n_outputs), (n),
    // (n, n_features).
    gather_rows(c, X, Y, w, order + lo, 0, n);
    y = c.y.data();
    wc = w ? c.w.data() : nullptr;
  }
  const InputRows<S> input = input_rows(X, order, lo, n, c.x.data());
  const BlockExtras<S> ex = extras(c, lo, n, 0);
  forward<S>(c.act.data(), c.gemm, net_, params, input, ex);
  const Index L = net_.n_layers();
  loss_and_output_delta(c.loss_sum, c.weight_sum,
                        ConstMatrixMap<S>(c.act.data() + layer_offset(net_, L, n), n, n_outputs),
                        ConstMatrixMap<S>(y, n, n_outputs), wc,
                        c.delta.data() + layer_offset(net_, L, n));
  backward<S>(c.grad.data(), c.delta.data(), c.gemm, net_, params, input, c.act.data(), ex);
}

template <class S>
BlockExtras<S> Trainer<S>::extras(ChunkWorkspace<S>& c, Index first_row, Index batch_rows,
                                  Index row0) {
  return {c.pre.size() ? c.pre.data() : nullptr, c.skip.size() ? c.skip.data() : nullptr,
          dropout_.any() ? &dropout_ : nullptr, first_row, batch_rows, row0};
}

template <class S>
void Trainer<S>::share_weights(const S* params, bool sparse_input) {
  pack_cost_.assign(1, 0.0);  // within the capacity reserved by the constructor
  for (Index l = 0; l < net_.n_layers(); ++l) {
    const ConstMatrixMap<S> W = net_.layer(params, l).W;
    SharedOperand<S>& forward = ws_.forward_weights[size_t(l)];
    SharedOperand<S>& backward = ws_.backward_weights[size_t(l)];
    // Sparse X multiplies the input layer's W itself.
    if (l > 0 || !sparse_input) forward.set_for_a_b(W);
    if (l == 0 && sparse_input) forward.set_none();
    if (l > 0) backward.set_for_a_bt(W);
    for (const SharedOperand<S>* B : {&forward, &backward}) {
      for (Index i = 0; i < B->pack_items(); ++i) {
        pack_cost_.push_back(pack_cost_.back() + double(B->pack_item_size(i)));
      }
    }
  }
}

template <class S>
void Trainer<S>::share_deltas(Index rows) {
  const S* delta = ws_.chunks[0].delta.data();
  for (Index l = 0; l < net_.n_layers(); ++l) {
    const Index fan_out = net_.layers()[size_t(l)].fan_out;
    ws_.deltas[size_t(l)].set_for_at_b(
        ConstMatrixMap<S>(delta + layer_offset(net_, l + 1, rows), rows, fan_out));
  }
}

template <class S>
Index Trainer<S>::weight_pack_items() const {
  return Index(pack_cost_.size()) - 1;
}

template <class S>
void Trainer<S>::pack_weights_share() {
  const auto [first, end] = share_of_items(pack_cost_.data(), weight_pack_items());
  for (Index t = first; t < end; ++t) pack_weights(t);
#pragma omp barrier
}

template <class S>
void Trainer<S>::item_passes(Index start, Index rows, const S* params, const FeatureMatrix<S>& X,
                             ConstMatrixMap<S> Y, const S* w, const std::int64_t* order) {
  pack_weights_share();
#pragma omp for schedule(static)
  for (Index k = 0; k < row_items(rows); ++k) process_item(k, start, rows, params, X, Y, w, order);
}

template <class S>
void Trainer<S>::pack_weights(Index t) {
  for (size_t l = 0; l < ws_.forward_weights.size(); ++l) {
    for (SharedOperand<S>* W : {&ws_.forward_weights[l], &ws_.backward_weights[l]}) {
      if (t < W->pack_items()) return W->pack_item(t);
      t -= W->pack_items();
    }
  }
}

template <class S>
void Trainer<S>::process_item(Index k, Index start, Index rows, const S* params,
                              const FeatureMatrix<S>& X, ConstMatrixMap<S> Y, const S* w,
                              const std::int64_t* order) {
  ChunkWorkspace<S>& c = ws_.chunks[0];
  const Index n_items = row_items(rows);
  const Index r0 = row_item_start(k, rows, n_items);
  const Index n = row_item_start(k + 1, rows, n_items) - r0;
  const Index n_outputs = Y.cols(), L = net_.n_layers();
  const S* y = Y.data() + (start + r0) * n_outputs;
  const S* wi = w ? w + start + r0 : nullptr;
  if (order) {
    // Gather the item's targets, weights and dense input rows into the batch's buffers.
    gather_rows(c, X, Y, w, order + start, r0, r0 + n);
    y = c.y.data() + r0 * n_outputs;
    wi = w ? c.w.data() + r0 : nullptr;
  }
  const InputRows<S> input =
      input_rows(X, order, start + r0, n, c.x.data() + r0 * X.cols());
  const BlockExtras<S> ex = extras(c, start, rows, r0);
  GemmWorkspace<S>& gemm = ws_.thread_gemm[size_t(thread_id())];
  for (Index l = 0; l < L; ++l) {
    column_forward_block<S>(c.act.data(), gemm, net_, params, input, ex, l, 0,
                            net_.layers()[size_t(l)].fan_out, &ws_.forward_weights[size_t(l)]);
  }
  const Index out = layer_offset(net_, L, rows) + r0 * n_outputs;
  loss_and_output_delta(ws_.item_loss[size_t(k)], ws_.item_weight[size_t(k)],
                        ConstMatrixMap<S>(c.act.data() + out, n, n_outputs),
                        ConstMatrixMap<S>(y, n, n_outputs), wi, c.delta.data() + out);
  ws_.deltas[size_t(L - 1)].pack_rows(r0, r0 + n);
  for (Index l = L - 1; l >= 1; --l) {
    column_backward_block<S>(c.delta.data(), gemm, net_, params, c.act.data(), ex, n, l, 0,
                             net_.layers()[size_t(l)].fan_in, &ws_.backward_weights[size_t(l)]);
    ws_.deltas[size_t(l - 1)].pack_rows(r0, r0 + n);
  }
}

template <class S>
typename Trainer<S>::TileParams Trainer<S>::tile_params(Index t) const {
  const GradientTile& tile = tiles_[size_t(t)];
  const LayerShape& s = net_.layers()[size_t(tile.layer)];
  const Index b_lo = tile.r0 == 0 ? s.intercept_offset : 0;
  return {s.coef_offset + tile.r0 * s.fan_out, s.coef_offset + tile.r1 * s.fan_out, b_lo,
          tile.r0 == 0 ? b_lo + s.fan_out : 0};
}

template <class S>
void Trainer<S>::gradient_tile(Index t, Index start, Index rows, const S* params,
                               const FeatureMatrix<S>& X, const std::int64_t* order,
                               double sw_sum) {
  ChunkWorkspace<S>& c = ws_.chunks[0];
  const GradientTile& tile = tiles_[size_t(t)];
  const InputRows<S> input = input_rows(X, order, start, rows, c.x.data());
  weight_gradient_rows<S>(c.grad.data(), ws_.thread_gemm[size_t(thread_id())], net_, input,
                          c.act.data(), c.delta.data(), ws_.deltas[size_t(tile.layer)],
                          tile.layer, tile.r0, tile.r1);
  const TileParams p = tile_params(t);
  using Array = Eigen::Array<S, Eigen::Dynamic, 1>;
  Eigen::Map<Array> G(c.grad.data() + p.lo, p.hi - p.lo);
  ws_.penalty_parts[size_t(t)] = sum_of_squares(params + p.lo, p.hi - p.lo);
  G += S(alpha_) * Eigen::Map<const Array>(params + p.lo, p.hi - p.lo);
  G /= S(sw_sum);
  Eigen::Map<Array>(c.grad.data() + p.b_lo, p.b_hi - p.b_lo) /= S(sw_sum);
}

template <class S>
void Trainer<S>::sum_items(Index rows, double* loss_sum, double* weight_sum) const {
  *loss_sum = 0;
  *weight_sum = 0;
  for (Index k = 0; k < row_items(rows); ++k) {
    *loss_sum += ws_.item_loss[size_t(k)];
    *weight_sum += ws_.item_weight[size_t(k)];
  }
}

template <class S>
void Trainer<S>::reduce_slice(Index s, Index n_chunks, const S* params, double sw_sum) {
  const Index lo = s * kSliceSize, hi = std::min(lo + kSliceSize, net_.n_params());
  Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>> G(ws_.chunks[0].grad.data() + lo, hi - lo);
  for (Index k = 1; k < n_chunks; ++k) {
    G += Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>>(ws_.chunks[size_t(k)].grad.data() + lo,
                                                             hi - lo);
  }
  // The coefficients [0, n_coefs) carry the L2 term; intercepts do not.
  const Index coef_hi = std::min(hi, net_.n_coefs());
  double penalty = 0;
  if (lo < coef_hi) {
    Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>> W(params + lo, coef_hi - lo);
    penalty = sum_of_squares(params + lo, coef_hi - lo);
    G.head(coef_hi - lo) += S(alpha_) * W;
  }
  ws_.penalty_parts[size_t(s)] = penalty;
  G /= S(sw_sum);
}

template <class S>
void Trainer<S>::column_pass(Index start, Index rows, const S* params, const FeatureMatrix<S>& X,
                             ConstMatrixMap<S> Y, const S* w, const std::int64_t* order) {
  ChunkWorkspace<S>& c = ws_.chunks[0];
  const Index n_outputs = Y.cols(), L = net_.n_layers();
  GemmWorkspace<S>& gemm = ws_.thread_gemm[size_t(thread_id())];
  if (order) {
    // Gather the batch's targets, weights and dense input rows, in fixed blocks of rows.
    const Index n_blocks = (rows + kGatherRows - 1) / kGatherRows;
#pragma omp for schedule(static)
    for (Index b = 0; b < n_blocks; ++b) {
      gather_rows(c, X, Y, w, order + start, b * kGatherRows,
                  std::min(rows, (b + 1) * kGatherRows));
    }
  }
  const S* y = order ? c.y.data() : Y.data() + start * n_outputs;
  const S* wb = w ? (order ? c.w.data() : w + start) : nullptr;
  const InputRows<S> input = input_rows(X, order, start, rows, c.x.data());
  const BlockExtras<S> ex = extras(c, start, rows, 0);
  // Forward, layer by layer, over blocks of output columns. The output layer is one block,
  // whose thread then takes the batch's loss and output delta.
  for (Index l = 0; l < L; ++l) {
    const ColumnBlocks& blocks = col_blocks_[size_t(l)];
#pragma omp for schedule(static)
    for (Index b = 0; b < Index(blocks.size()); ++b) {
      const auto [c0, c1] = blocks[size_t(b)];
      column_forward_block<S>(c.act.data(), gemm, net_, params, input, ex, l, c0, c1);
      if (l + 1 == L) {
        const Index offset = layer_offset(net_, L, rows);
        loss_and_output_delta(c.loss_sum, c.weight_sum,
                              ConstMatrixMap<S>(c.act.data() + offset, rows, n_outputs),
                              ConstMatrixMap<S>(y, rows, n_outputs), wb, c.delta.data() + offset);
      }
    }
  }
  // Deltas, layer by layer, over blocks of each layer's input columns (the blocks of the layer
  // before's output).
  for (Index l = L - 1; l >= 1; --l) {
    const ColumnBlocks& blocks = col_blocks_[size_t(l - 1)];
#pragma omp for schedule(static)
    for (Index b = 0; b < Index(blocks.size()); ++b) {
      const auto [c0, c1] = blocks[size_t(b)];
      column_backward_block<S>(c.delta.data(), gemm, net_, params, c.act.data(), ex, rows, l, c0,
                               c1);
    }
  }
  // Weight gradients over the whole batch, by column tiles of every layer.
  const Index n_tiles = tile_count(col_blocks_);
#pragma omp for schedule(static)
  for (Index t = 0; t < n_tiles; ++t) {
    Index l = 0, b = t;
    while (b >= Index(col_blocks_[size_t(l)].size())) b -= Index(col_blocks_[size_t(l++)].size());
    const auto [c0, c1] = col_blocks_[size_t(l)][size_t(b)];
    column_weight_gradient_tile<S>(c.grad.data(), gemm, net_, input, c.act.data(), c.delta.data(),
                                   l, c0, c1);
  }
}

template <class S>
void Trainer<S>::sum_chunks(Index n_chunks, double* loss_sum, double* weight_sum) const {
  *loss_sum = 0;
  *weight_sum = 0;
  for (Index k = 0; k < n_chunks; ++k) {
    *loss_sum += ws_.chunks[size_t(k)].loss_sum;
    *weight_sum += ws_.chunks[size_t(k)].weight_sum;
  }
}

template <class S>
double Trainer<S>::penalty() const {
  double total = 0;
  for (double p : ws_.penalty_parts) total += p;
  return total;
}

template <class S>
int Trainer<S>::threads_for_batches() const {
  int threads = resolve_threads(n_threads_);
  if (column_mode_ || item_mode_) threads = std::min(threads, int(ws_.thread_gemm.size()));
  const Index blocks = column_mode_ ? Index(col_blocks_.front().size())
                       : item_mode_ ? std::max(row_items(batch_size_), Index(tiles_.size()))
                                    : chunk_count(batch_size_, min_rows_);
  const Index parallel_units = std::max(blocks, n_slices_);
  if (parallel_units < 2 || net_.macs_per_sample() * double(batch_size_) < kMinParallelMacs) {
    return 1;
  }
  return int(std::min<Index>(threads, parallel_units));
}

template <class S>
template <class Optimizer>
EpochResult Trainer<S>::epoch_pass(S* params, Optimizer& optimizer, const FeatureMatrix<S>& X,
                                   ConstMatrixMap<S> Y, const S* w, const std::int64_t* order,
                                   const InterruptCheck& interrupt, std::uint64_t epoch,
                                   std::chrono::steady_clock::time_point& last_poll) {
  dropout_.epoch = epoch;
  const Index n = X.rows();
  EpochResult result;
  const int threads = threads_for_batches();
  bool stop = false;  // set by the master; read by all only after the next barrier
  if (item_mode_) {
    share_weights(params, X.sparse());
    share_deltas(std::min(batch_size_, n));
  }
  // Chunk mode: two barriers a mini-batch, after the chunks' forward/backward passes and after
  // the update; item mode: three (see process_item).
  // Static schedules: a thread keeps the same chunks' workspaces and parameter slices in its
  // cache from batch to batch (dynamic hand-out measured ~15% slower on an idle machine).
  // The work-sharing constructs are orphaned in the lambda: run by a team, or by the caller
  // alone (see run_in_team).
  run_in_team(threads, [&] {
    for (Index start = 0; start < n; start += batch_size_) {
      const Index rows = std::min(batch_size_, n - start);
      const Index n_chunks = column_mode_ || item_mode_ ? 1 : chunk_count(rows, min_rows_);
      if (item_mode_) {
        item_passes(start, rows, params, X, Y, w, order);
      } else if (column_mode_) {
        column_pass(start, rows, params, X, Y, w, order);
      } else {
#pragma omp for schedule(static)
        for (Index k = 0; k < n_chunks; ++k) {
          process_chunk(k, n_chunks, start, rows, params, X, Y, w, order);
        }
      }
      // (barrier) Every thread now derives the batch's scalars itself, in the same order.
      if (stop) break;  // the master's decision of the previous batch: all threads agree
      double loss_sum, sw_sum;
      if (item_mode_) {
        sum_items(rows, &loss_sum, &sw_sum);
      } else {
        sum_chunks(n_chunks, &loss_sum, &sw_sum);
      }
      const typename Optimizer::Step step = optimizer.next_step();
      S* grad = ws_.chunks[0].grad.data();
      if (item_mode_) {
        const auto [first, end] = share_of_items(tile_cost_.data(), Index(tiles_.size()));
        for (Index t = first; t < end; ++t) {
          gradient_tile(t, start, rows, params, X, order, sw_sum);
          const TileParams p = tile_params(t);
          optimizer.update(step, params, grad, p.lo, p.hi);
          optimizer.update(step, params, grad, p.b_lo, p.b_hi);
        }
#pragma omp barrier
      } else {
#pragma omp for schedule(static)
        for (Index s = 0; s < n_slices_; ++s) {
          reduce_slice(s, n_chunks, params, sw_sum);
          const Index lo = s * kSliceSize, hi = std::min(lo + kSliceSize, net_.n_params());
          optimizer.update(step, params, grad, lo, hi);
        }
      }
      // (barrier) The calling (master) thread does the bookkeeping -- only it may poll for
      // Ctrl-C -- while the others start the next batch's chunks, which touch none of it.
#pragma omp master
      {
        optimizer.end_step();
        const double batch_loss = loss_sum / sw_sum + 0.5 * alpha_ * penalty() / sw_sum;
        result.accumulated_loss += batch_loss * double(rows);
        ++result.n_batches;
        const auto now = std::chrono::steady_clock::now();
        if (interrupt && now - last_poll >= kInterruptPollInterval) {
          last_poll = now;
          stop = interrupt();
        }
        // The next batch's deltas: read by the others only after its first barrier.
        if (item_mode_ && start + rows < n) share_deltas(std::min(batch_size_, n - start - rows));
      }
    }
  });
  result.interrupted = stop;
  return result;
}

template <class S>
void Trainer<S>::check_batch_weights(Index n, const S* w, const std::int64_t* order) const {
  for (Index start = 0; start < n; start += batch_size_) {
    double sum = 0;
    for (Index i = start; i < std::min(n, start + batch_size_); ++i) sum += w[order ? order[i] : i];
    if (sum == 0) throw ZeroWeightBatch();
  }
}

template <class S>
template <class Optimizer>
Index Trainer<S>::run_epochs(S* params, Optimizer& optimizer, const FeatureMatrix<S>& X,
                             ConstMatrixMap<S> Y, const S* w, std::int64_t* order,
                             LegacyShuffler* shuffler, Index max_epochs, EpochRule& rule,
                             bool apply_rule, double* losses, const InterruptCheck& interrupt,
                             bool* interrupted) {
  if (shuffler && !order) throw std::invalid_argument("shuffling needs an order to shuffle");
  if (!apply_rule && max_epochs != 1) {
    throw std::invalid_argument("without the rule, epochs run one at a time");
  }
  check_inputs(X, Y, order);  // a shuffle permutes the indices: they stay in range
  const Index n = X.rows();
  *interrupted = false;
  auto last_poll = std::chrono::steady_clock::now();  // Ctrl-C polls span epochs
  for (Index e = 0; e < max_epochs; ++e) {
    if (shuffler) {
      // An incremental epoch stands for a partial_fit call, whose shuffle permutes 0..n-1.
      if (rule.incremental) std::iota(order, order + n, std::int64_t(0));
      shuffler->shuffle(order, n);
    }
    if (w) check_batch_weights(n, w, order);
    rule.begin_epoch();
    optimizer.set_learning_rate(rule.learning_rate);
    const EpochResult r = epoch_pass(params, optimizer, X, Y, w, order, interrupt,
                                     std::uint64_t(rule.samples_seen), last_poll);
    if (r.interrupted) {
      *interrupted = true;
      return e;
    }
    losses[e] = r.accumulated_loss / double(n);
    if (apply_rule) {
      rule.record(losses[e], n);
      if (rule.decide() == EpochRule::Decision::stop && !rule.incremental) return e + 1;
    }
  }
  return max_epochs;
}

template <class S>
double Trainer<S>::loss_and_gradient(S* grad, const S* params, const FeatureMatrix<S>& X,
                                     ConstMatrixMap<S> Y, const S* w, std::uint64_t epoch) {
  check_inputs(X, Y, nullptr);
  dropout_.epoch = epoch;
  const Index n = X.rows();
  if (n > batch_size_) throw std::invalid_argument("more rows than this trainer was built for");
  if (n < 1) throw std::invalid_argument("X has no rows");
  const Index n_chunks = column_mode_ || item_mode_ ? 1 : chunk_count(n, min_rows_);
  const int threads = threads_for_batches();
  double sw_sum = 0, loss_sum = 0;
  if (item_mode_) {
    share_weights(params, X.sparse());
    share_deltas(n);
    run_in_team(threads, [&] {
      item_passes(0, n, params, X, Y, w, nullptr);
#pragma omp single
      sum_items(n, &loss_sum, &sw_sum);
      const auto [first, end] = share_of_items(tile_cost_.data(), Index(tiles_.size()));
      for (Index t = first; t < end; ++t) gradient_tile(t, 0, n, params, X, nullptr, sw_sum);
    });
    VectorMap<S>(grad, net_.n_params()) = ws_.chunks[0].grad;
    return loss_sum / sw_sum + 0.5 * alpha_ * penalty() / sw_sum;
  }
  run_in_team(threads, [&] {
    if (column_mode_) {
      column_pass(0, n, params, X, Y, w, nullptr);
    } else {
#pragma omp for schedule(static)
      for (Index k = 0; k < n_chunks; ++k) {
        process_chunk(k, n_chunks, 0, n, params, X, Y, w, nullptr);
      }
    }
#pragma omp single
    sum_chunks(n_chunks, &loss_sum, &sw_sum);
#pragma omp for schedule(static)
    for (Index s = 0; s < n_slices_; ++s) reduce_slice(s, n_chunks, params, sw_sum);
  });
  VectorMap<S>(grad, net_.n_params()) = ws_.chunks[0].grad;
  return loss_sum / sw_sum + 0.5 * alpha_ * penalty() / sw_sum;
}

template class Trainer<float>;
template class Trainer<double>;

#define FASTNN_INSTANTIATE_EPOCHS(S, Optimizer)                                                   \
  template Index Trainer<S>::run_epochs<Optimizer<S>>(                                            \
      S*, Optimizer<S>&, const FeatureMatrix<S>&, ConstMatrixMap<S>, const S*, std::int64_t*,    \
      LegacyShuffler*, Index, EpochRule&, bool, double*, const InterruptCheck&, bool*);
FASTNN_INSTANTIATE_EPOCHS(float, SGDState)
FASTNN_INSTANTIATE_EPOCHS(double, SGDState)
FASTNN_INSTANTIATE_EPOCHS(float, AdamState)
FASTNN_INSTANTIATE_EPOCHS(double, AdamState)
FASTNN_INSTANTIATE_EPOCHS(float, AdamWState)
FASTNN_INSTANTIATE_EPOCHS(double, AdamWState)
FASTNN_INSTANTIATE_EPOCHS(float, RMSpropState)
FASTNN_INSTANTIATE_EPOCHS(double, RMSpropState)
FASTNN_INSTANTIATE_EPOCHS(float, RpropState)
FASTNN_INSTANTIATE_EPOCHS(double, RpropState)
#undef FASTNN_INSTANTIATE_EPOCHS

}  // namespace fastnn
