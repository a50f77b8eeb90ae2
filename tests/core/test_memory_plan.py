"""A fit's memory plan (_core.plan_memory, the MemoryPlan a Trainer allocates from): buffer sizes
worked out by hand for a known network, the switch to column mode, and the plan's invariants."""

import math

import pytest

from fastnn import _core

from _reference import residual_layers

MNIST_UNITS = [784, 256, 128, 10]
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
    net = _net(MNIST_UNITS)
    plan = _core.plan_memory(net, 200)
    # 200 rows: 200 // 64 = 3 chunks, rounded down to an even 2; the largest chunk of any batch
    # of <= 200 rows is half of 200.
    assert plan["column_mode"] is False
    assert plan["n_chunk_workspaces"] == 2
    assert plan["max_rows"] == 100
    assert plan["x"] == 100 * 784
    assert plan["y"] == 100 * 10
    assert plan["w"] == 100
    assert plan["act"] == 100 * (256 + 128 + 10)
    assert plan["delta"] == plan["act"]
    assert plan["pre"] == 0 and plan["skip"] == 0
    n_params = 784 * 256 + 256 * 128 + 128 * 10 + 256 + 128 + 10
    assert plan["grad"] == net.n_params == n_params
    assert plan["gemm_dim"] == 784  # the widest product dimension: the input
    assert plan["chunk_gemm"] is True
    assert plan["n_thread_gemm"] == 0 and plan["column_blocks"] == []
    assert plan["n_slices"] == math.ceil(n_params / 4096)


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
    assert plan["chunk_gemm"] is not column_mode
    assert (plan["n_thread_gemm"] > 0) is column_mode
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
    assert _core.plan_memory(_net(MNIST_UNITS), 100, n_threads=n_threads)["n_thread_gemm"] == 0


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
    # Row chunks depend on the batch, never on the thread count.
    for n_threads in [0, 1, 3, 8]:
        assert _core.plan_memory(net, 200, n_threads=n_threads) == first


def test_a_batch_size_below_one_is_rejected():
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        _core.plan_memory(_net(MNIST_UNITS), 0)
