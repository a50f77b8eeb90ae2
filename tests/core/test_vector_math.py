"""tanh and exp are vectorised (cpp/fastnn/vector_math.hpp) and accurate to <= 2 ulp.

The forward pass evaluates tanh, logistic (1 / (1 + exp(-z))), softmax's exp and the Poisson
output's exp through SLEEF's vector functions when the core was built with SLEEF, else through the
C library. Either way: within 2 ulp of the exact value (here numpy's extended precision, and the
C library's own double functions), IEEE special values kept, and one value gives one result
wherever it sits in a row, whatever the row's width and the buffer's alignment.
"""

import math

import numpy as np
import pytest

from fastnn import _core

EXACT = {  # the function in extended precision (the C library's long double functions)
    "tanh": np.tanh,
    "exp": np.exp,
    "logistic": lambda x: 1 / (1 + np.exp(-x)),
}
C_LIBRARY = {"tanh": math.tanh, "exp": math.exp}  # the C library's double functions


def activate(x, activation):
    """g(x) as a hidden (or output) layer's forward pass computes it, on a (1, n) row."""
    z = np.array(x).reshape(1, -1)
    _core._activate(z, activation)
    return z.ravel()


def inputs(dtype, activation):
    """Wide-ranging arguments: tiny, moderate and saturating, both signs, where g is finite."""
    rng = np.random.default_rng(0)
    top = {"exp": 80.0 if dtype == np.float32 else 700.0}.get(activation, 40.0)
    parts = [
        rng.uniform(-top, top, 20000),
        rng.uniform(-1, 1, 20000),
        np.sign(rng.uniform(-1, 1, 5000)) * 10.0 ** rng.uniform(-30, 0, 5000),
        [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 0.625, -0.625],
    ]
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts]).astype(dtype)


def ulp_distance(got, exact, dtype):
    exact_rounded = exact.astype(dtype)
    ulp = np.spacing(np.abs(exact_rounded)).astype(np.longdouble)
    return np.abs(got.astype(np.longdouble) - exact) / ulp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["tanh", "exp", "logistic"])
def test_within_two_ulp_of_the_exact_value(dtype, activation):
    x = inputs(dtype, activation)
    got = activate(x, activation)
    exact = EXACT[activation](x.astype(np.longdouble))
    distance = ulp_distance(got, exact, dtype)
    assert distance.max() <= 2.0, (x[distance.argmax()], distance.max())


@pytest.mark.parametrize("activation", ["tanh", "exp"])
def test_within_two_ulp_of_the_c_library(activation):
    x = inputs(np.float64, activation)[::5]
    got = activate(x, activation)
    libm = np.array([C_LIBRARY[activation](v) for v in x.tolist()])
    ulp = np.spacing(np.abs(libm))
    assert (np.abs(got - libm) / ulp).max() <= 2.0


@pytest.mark.parametrize("activation", ["tanh", "exp", "logistic"])
def test_float32_over_its_whole_range(activation):
    """Every 4096th float32 (a million values, every exponent, both signs, inf): within 2 ulp.
    (Over every float, checked once outside the suite: xsimd's tanh 1.35 ulp at most for SSE2,
    SSE4.2, AVX2 + FMA and AVX-512.)"""
    bits = np.arange(0, 2**32, 4096, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[~np.isnan(x)]
    with np.errstate(over="ignore"):  # exp overflows float32 (and long double) at the top
        exact = EXACT[activation](x.astype(np.longdouble))
        finite = np.isfinite(exact.astype(np.float32))  # where float32 overflows: inf, as it must
        expected_overflow = exact[~finite].astype(np.float32)
    got = activate(x, activation)
    np.testing.assert_array_equal(got[~finite], expected_overflow)
    distance = ulp_distance(got[finite], exact[finite], np.float32)
    assert distance.max() <= 2.0, (x[finite][distance.argmax()], distance.max())


def test_float64_logistic_where_the_plain_quotient_erred():
    """Two million float64 arguments over [-12, 12], where 1 / (1 + e) and e / (1 + e) computed
    plainly exceeded 2 ulp about once in 1e5 (2.42 at x = -4.148): the compensated quotient
    stays within 2."""
    x = np.random.default_rng(1).uniform(-12, 12, 2_000_000)
    exact = EXACT["logistic"](x.astype(np.longdouble))
    distance = ulp_distance(activate(x, "logistic"), exact, np.float64)
    assert distance.max() <= 2.0, (x[distance.argmax()], distance.max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    inf, nan = np.inf, np.nan
    x = np.array([inf, -inf, nan, 0.0, -0.0, 1e6, -1e6], dtype=dtype)
    t = activate(x, "tanh")
    np.testing.assert_array_equal(t[[0, 1, 3, 5, 6]], [1, -1, 0, 1, -1])
    assert np.isnan(t[2])  # (-0.0 + the zero bias is +0.0)
    e = activate(x, "exp")
    np.testing.assert_array_equal(e[[0, 1, 3, 4, 5, 6]], [inf, 0, 1, 1, inf, 0])
    assert np.isnan(e[2])
    s = activate(x, "logistic")
    np.testing.assert_array_equal(s[[0, 1, 3, 4, 5, 6]], [1, 0, 0.5, 0.5, 1, 0])
    assert np.isnan(s[2])


KEPT = ("softplus", "silu", "gelu")  # the forward pass writes their derivative too


def value_and_derivative(z, activation):
    d = np.empty_like(z) if activation in KEPT else None
    _core._activate(z, activation, derivative=d)
    return z, d


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation",
                         ["tanh", "exp", "logistic", "elu", "softplus", "silu", "gelu"])
def test_one_value_one_result_at_any_position_width_or_alignment(dtype, activation):
    """(And the derivative kept beside softplus', silu's and gelu's values.)"""
    values = inputs(dtype, activation)[:: 997][:24]
    alone = [value_and_derivative(np.array([[v]]), activation) for v in values]
    alone_value = np.array([a[0, 0] for a, _ in alone])
    alone_derivative = np.array([0 if d is None else d[0, 0] for _, d in alone])
    for width in (1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 37):
        for offset in (0, 1, 3):  # elements past a 64-byte boundary
            buffer = np.zeros(offset + width * len(values) + 64, dtype=dtype)
            start = (-buffer.ctypes.data // buffer.itemsize) % (64 // buffer.itemsize) + offset
            # each value at every position of a row: row r holds values[(r + j) % len] at j
            idx = (np.arange(len(values))[:, None] + np.arange(width)[None, :]) % len(values)
            z = buffer[start:start + idx.size].reshape(idx.shape)
            z[...] = values[idx]
            _, d = value_and_derivative(z, activation)
            np.testing.assert_array_equal(z, alone_value[idx])
            if d is not None:
                np.testing.assert_array_equal(d, alone_derivative[idx])


def test_show_config_names_the_vector_math_library():
    library = _core.build_info()["vector_math"]
    assert library.startswith(("SLEEF ", "C library"))
