"""A fit's memory plan (_core.plan_memory, the MemoryPlan a Trainer allocates from): buffer sizes
worked out by hand for known networks, the switches to item and column mode, and the plan's
invariants."""

import math

import pytest

from fastnn import _core

from _reference import residual_layers

MNIST_UNITS = [784, 256, 128, 10]
# Largest layer 300 x 256 = 76,800 weights: under item mode's 128K, so chunk mode at any batch.
CHUNK_UNITS = [300, 256, 128, 10]
# 1450 x 1450 = 2,102,500 weights: just over the column-mode threshold (2048 x 1024).
WIDE_UNITS = [40, 1450, 1450, 3]


def _net(units, residual=False):
    flags = residual_layers(units) if residual else []
    return _core.Network(units, "relu", "softmax", "log_loss", residual=flags)


def _resolved(n_threads):
    """The thread count the core resolves n_threads to (0: all the OpenMP limit allows)."""
    if not _core.has_openmp:
        return 1
    return n_threads if n_threads > 0 else _core.max_threads()


def test_plan_of_a_known_network_matches_sizes_worked_out_by_hand():
    net = _net(CHUNK_UNITS)
    plan = _core.plan_memory(net, 200)
    # 200 rows: 200 // 64 = 3 chunks, rounded down to an even 2; the largest chunk of any batch
    # of <= 200 rows is half of 200.
    assert plan["column_mode"] is False and plan["item_mode"] is False
    assert plan["n_chunk_workspaces"] == 2
    assert plan["max_rows"] == 100
    assert plan["x"] == 100 * 300
    assert plan["y"] == 100 * 10
    assert plan["w"] == 100
    assert plan["act"] == 100 * (256 + 128 + 10)
    assert plan["delta"] == plan["act"]
    assert plan["pre"] == 0 and plan["skip"] == 0
    n_params = 300 * 256 + 256 * 128 + 128 * 10 + 256 + 128 + 10
    assert plan["grad"] == net.n_params == n_params
    assert plan["gemm_dim"] == 300  # the widest product dimension: the input
    assert plan["chunk_gemm"] is True
    assert plan["n_thread_gemm"] == 0 and plan["column_blocks"] == []
    assert plan["n_slices"] == math.ceil(n_params / 4096)
    assert plan["row_items"] == 0 and plan["tiles"] == []


def test_item_mode_plan_of_the_mnist_network_worked_out_by_hand():
    net = _net(MNIST_UNITS)
    plan = _core.plan_memory(net, 128, n_threads=1)
    # 128 rows x 234,752 multiply-adds = 30M: 30M / 2^18 = 114 items, at most 64; items of at
    # least 8 rows: 16 row items of 8 rows.
    assert plan["item_mode"] is True and plan["column_mode"] is False
    assert plan["n_chunk_workspaces"] == 1 and plan["chunk_gemm"] is False
    assert plan["max_rows"] == 128
    assert plan["act"] == 128 * (256 + 128 + 10)
    assert plan["row_items"] == 16
    # 64 tiles shared by weights: 784 x 256 is 85.5% of them (55), at most 784 / 16 = 49; the
    # 256 x 128 layer 8.9 -> 9; the output layer 1.
    tiles = plan["tiles"]
    assert [sum(1 for t in tiles if t[0] == l) for l in range(3)] == [49, 9, 1]
    assert plan["shared_weights"] == 784 * 256 + 256 * 128 + 128 * 10
    assert plan["shared_deltas"] == 128 * 256
    assert plan["n_thread_gemm"] == 1


@pytest.mark.parametrize(
    "units, batch_size, item_mode",
    [
        (MNIST_UNITS, 4, False),  # 939k multiply-adds a batch: under 1M
        (MNIST_UNITS, 5, True),
        ([512, 255, 10], 1000, False),  # 130,560 weights: under 128K = 131,072
        ([512, 256, 10], 1000, True),
        ([512, 256, 10], 7, False),  # 0.93M
        (WIDE_UNITS, 1000, False),  # column mode
    ],
)
def test_item_mode_is_chosen_for_a_layer_of_128K_weights_and_batches_of_1M_macs(
    units, batch_size, item_mode
):
    plan = _core.plan_memory(_net(units), batch_size)
    assert plan["item_mode"] is item_mode
    assert (plan["row_items"] > 0) is item_mode and (len(plan["tiles"]) > 0) is item_mode


@pytest.mark.parametrize("units", [MNIST_UNITS, [512, 256, 10], [1000, 300, 300, 1]])
@pytest.mark.parametrize("batch_size", [8, 32, 128, 200, 513, 4096])
def test_item_mode_tiles_cover_every_layers_rows_and_give_many_items(units, batch_size):
    plan = _core.plan_memory(_net(units), batch_size)
    assert plan["item_mode"]
    for layer, fan_in in enumerate(units[:-1]):
        rows = [(r0, r1) for l, r0, r1 in plan["tiles"] if l == layer]
        assert rows[0][0] == 0 and rows[-1][1] == fan_in
        assert all(a[1] == b[0] for a, b in zip(rows, rows[1:]))
        assert all(r0 % 4 == 0 and r1 - r0 >= min(16, fan_in) for r0, r1 in rows)
    assert plan["row_items"] in (1, 2, 4, 8, 16, 32, 64)
    assert plan["row_items"] <= max(1, batch_size // 8)
    macs = sum(a * b for a, b in zip(units[:-1], units[1:])) * batch_size
    if batch_size >= 128:  # at least 16 row items of 8 rows, and 16 tiles with the weights
        assert plan["row_items"] >= 16 and len(plan["tiles"]) >= 16 or macs < 4e6


def test_every_batch_fits_its_chunk_workspaces():
    net = _net(MNIST_UNITS)
    previous = 0
    for batch_size in range(1, 301):
        plan = _core.plan_memory(net, batch_size)
        assert plan["max_rows"] * plan["n_chunk_workspaces"] >= batch_size
        assert plan["max_rows"] <= batch_size
        assert plan["max_rows"] >= previous  # a larger batch never needs smaller blocks
        previous = plan["max_rows"]


@pytest.mark.parametrize(
    "units, column_mode",
    [
        ([2048, 1024, 10], False),  # exactly 2M weights
        ([2049, 1024, 10], True),  # one layer over 2M
        ([10, 1024, 2049, 3], True),  # a hidden layer over 2M
        ([1024, 1024, 1024, 10], False),  # over 2M in all, but no one layer is
    ],
)
def test_column_mode_is_chosen_for_a_layer_of_more_than_2M_weights(units, column_mode):
    plan = _core.plan_memory(_net(units), 64)
    assert plan["column_mode"] is column_mode
    assert plan["chunk_gemm"] is not (column_mode or plan["item_mode"])
    assert (plan["n_thread_gemm"] > 0) is (column_mode or plan["item_mode"])
    assert (len(plan["column_blocks"]) == len(units) - 1) is column_mode


def test_column_mode_plans_the_whole_batch_as_one_block_of_rows():
    plan = _core.plan_memory(_net(WIDE_UNITS), 300)
    assert plan["n_chunk_workspaces"] == 1
    assert plan["max_rows"] == 300
    assert plan["act"] == 300 * (1450 + 1450 + 3)
    assert plan["gemm_dim"] == 1450


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("dropout", [False, True])
def test_pre_and_skip_buffers_only_with_residual_layers_or_dropout(residual, dropout):
    units = [20, 30, 30, 5]
    plan = _core.plan_memory(_net(units, residual=residual), 100, dropout=dropout)
    assert plan["pre"] == (plan["act"] if residual or dropout else 0)
    assert plan["skip"] == (plan["max_rows"] * 30 if residual else 0)


@pytest.mark.parametrize("n_threads", [0, 1, 2, 3, 64])
def test_thread_gemm_workspaces_are_bounded_by_threads_and_tiles(n_threads):
    plan = _core.plan_memory(_net(WIDE_UNITS), 100, n_threads=n_threads)
    n_tiles = sum(len(blocks) for blocks in plan["column_blocks"])
    assert n_tiles == 5  # two blocks of 725 columns for each hidden layer, one output block
    assert plan["n_thread_gemm"] == max(1, min(_resolved(n_threads), n_tiles))
    assert _core.plan_memory(_net(CHUNK_UNITS), 100, n_threads=n_threads)["n_thread_gemm"] == 0
    items = _core.plan_memory(_net(MNIST_UNITS), 128, n_threads=n_threads)
    n_items = max(items["row_items"], len(items["tiles"]))
    assert items["n_thread_gemm"] == max(1, min(_resolved(n_threads), n_items))


@pytest.mark.parametrize("units", [MNIST_UNITS, WIDE_UNITS, [3000, 800, 2000, 7]])
def test_column_blocks_cover_each_layers_columns_exactly(units):
    plan = _core.plan_memory(_net(units), 50)
    if not plan["column_mode"]:
        assert plan["column_blocks"] == []
        return
    for fan_out, blocks in zip(units[1:], plan["column_blocks"]):
        assert blocks[0][0] == 0 and blocks[-1][1] == fan_out
        assert all(c0 < c1 for c0, c1 in blocks)
        assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    assert len(plan["column_blocks"][-1]) == 1  # softmax needs whole output rows


def test_plan_depends_only_on_its_inputs():
    net = _net(MNIST_UNITS)
    first = _core.plan_memory(net, 200, n_threads=2)
    _core.plan_memory(_net(WIDE_UNITS), 500, n_threads=3, dropout=True)
    assert _core.plan_memory(_net(MNIST_UNITS), 200, n_threads=2) == first
    # Row chunks, row items and tiles depend on the batch, never on the thread count (only the
    # per-thread GEMM workspaces do).
    for n_threads in [0, 1, 3, 8]:
        plan = _core.plan_memory(net, 200, n_threads=n_threads)
        assert {**plan, "n_thread_gemm": 0} == {**first, "n_thread_gemm": 0}


def test_a_batch_size_below_one_is_rejected():
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        _core.plan_memory(_net(MNIST_UNITS), 0)
