"""elu, softplus, silu and gelu (issue 17): the core's vectorised values within 2 ulp of the exact
function (gelu in float64: 2.5, SLEEF's erfc being a 1.5-ulp function), the derivatives the
forward pass keeps for softplus, silu and gelu, IEEE special values and PyTorch's functions of
the same names (position-independence: test_vector_math.py).

References: mpmath at 120 bits for float64 results; for float32 results the same functions in
float64 through scipy.special, exact enough to measure float32 ulps. Results below the smallest
normal number are left out of the ulp measure (their ulp is fixed: gelu's float64 values below
2.2e-308, for z < -37.5, are within 1e-321)."""

import mpmath
import numpy as np
import pytest
from scipy.special import expit, ndtr

from fastnn import _core

NEW = ["elu", "softplus", "silu", "gelu"]
KEPT = ["softplus", "silu", "gelu"]  # the forward pass writes g'(z) for these
BOUND = {("gelu", np.float64): 2.5}

mpmath.mp.prec = 120
EXACT = {
    "elu": lambda x: x if x > 0 else mpmath.expm1(x),
    "softplus": lambda x: mpmath.log1p(mpmath.exp(x)),
    "silu": lambda x: x / (1 + mpmath.exp(-x)),
    "gelu": lambda x: x * mpmath.erfc(-x / mpmath.sqrt(2)) / 2,
}
EXACT_DERIVATIVE = {
    "softplus": lambda x: 1 / (1 + mpmath.exp(-x)),
    "silu": lambda x: (1 + mpmath.exp(-x) + x * mpmath.exp(-x)) / (1 + mpmath.exp(-x)) ** 2,
    "gelu": lambda x: (mpmath.erfc(-x / mpmath.sqrt(2)) / 2
                       + x * mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)),
}
FLOAT64 = {  # for float32 arguments
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "softplus": lambda x: np.logaddexp(0, x),
    "silu": lambda x: x * expit(x),
    "gelu": lambda x: x * ndtr(x),
}
FLOAT64_DERIVATIVE = {
    "softplus": expit,
    "silu": lambda x: expit(x) * (1 + x * (1 - expit(x))),
    "gelu": lambda x: ndtr(x) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi),
}


def activate(x, activation):
    """(g(x), g'(x) or None) as a hidden layer's forward pass computes them, on a (1, n) row."""
    z = np.array(x).reshape(1, -1)
    d = np.full_like(z, np.nan) if activation in KEPT else None
    _core._activate(z, activation, derivative=d)
    return z.ravel(), None if d is None else d.ravel()


def ulps(got, exact, dtype):
    """|got - exact| in ulps of the exact value rounded to dtype (exact: float64 or mpf)."""
    rounded = np.array([dtype(float(e)) for e in exact])
    spacing = np.spacing(np.abs(rounded)).astype(np.float64)
    return np.array([float(abs(mpmath.mpf(float(g)) - e)) for g, e in zip(got, exact)]) / spacing


def arguments(n_wide=1500, n_near=2500, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([
        rng.uniform(-37, 40, n_wide),
        rng.uniform(-6, 6, n_near),
        np.sign(rng.uniform(-1, 1, 300)) * 10.0 ** rng.uniform(-30, 0, 300),
        [0.0, 0.5, -0.5, 1.0, -1.0, 1.85, -1.85, 3.0, -3.0],
    ])


@pytest.mark.parametrize("activation", NEW)
def test_float64_within_two_ulp_of_the_exact_value(activation):
    x = arguments()
    got, derivative = activate(x, activation)
    exact = [EXACT[activation](mpmath.mpf(v)) for v in x.tolist()]
    normal = np.array([abs(e) >= np.finfo(np.float64).tiny or e == 0 for e in exact])
    distance = ulps(got[normal], [e for e, k in zip(exact, normal) if k], np.float64)
    bound = BOUND.get((activation, np.float64), 2.0)
    assert distance.max() <= bound, (x[normal][distance.argmax()], distance.max())
    if activation not in KEPT:
        return
    expected = np.array([float(EXACT_DERIVATIVE[activation](mpmath.mpf(v))) for v in x.tolist()])
    # (silu's derivative crosses 0 at z = -1.278: there its error is absolute, ~1e-16)
    np.testing.assert_allclose(derivative, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", NEW)
def test_float32_over_its_whole_range(activation):
    """Every 4096th float32 (a million values, every exponent, both signs, inf)."""
    bits = np.arange(0, 2**32, 4096, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[~np.isnan(x)]
    with np.errstate(over="ignore", invalid="ignore"):
        exact = FLOAT64[activation](x.astype(np.float64))
    finite = np.isfinite(exact) & (np.abs(exact) >= np.finfo(np.float32).tiny)
    got, derivative = activate(x, activation)
    rounded = exact[finite].astype(np.float32)
    distance = np.abs(got[finite] - exact[finite]) / np.spacing(np.abs(rounded))
    assert distance.max() <= 2.0, (x[finite][distance.argmax()], distance.max())
    if activation in KEPT:
        with np.errstate(over="ignore", invalid="ignore"):
            expected = FLOAT64_DERIVATIVE[activation](x.astype(np.float64))
        ok = np.isfinite(expected)
        np.testing.assert_allclose(derivative[ok], expected[ok], rtol=2e-7, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    """As PyTorch's functions give them (silu and gelu of -inf: -inf · 0, NaN there too)."""
    inf, nan = np.inf, np.nan
    x = np.array([inf, -inf, nan, 0.0, 1e6, -1e6], dtype=dtype)
    expected = {
        "elu": [inf, -1, nan, 0, 1e6, -1],
        "softplus": [inf, 0, nan, np.log(2), 1e6, 0],
        "silu": [inf, nan, nan, 0, 1e6, 0],
        "gelu": [inf, nan, nan, 0, 1e6, 0],
    }
    for activation, values in expected.items():
        got, _ = activate(x, activation)
        np.testing.assert_allclose(got, np.array(values, dtype=dtype), rtol=1e-7,
                                   err_msg=activation)


@pytest.mark.parametrize("activation", NEW)
def test_matches_pytorch(activation):
    torch = pytest.importorskip("torch")
    functional = {"elu": torch.nn.functional.elu, "softplus": torch.nn.functional.softplus,
                  "silu": torch.nn.functional.silu, "gelu": torch.nn.functional.gelu}
    x = arguments(seed=1)
    got, derivative = activate(x, activation)
    t = torch.tensor(x, requires_grad=True)
    value = functional[activation](t)  # gelu: approximate='none', the exact one
    value.sum().backward()
    # softplus: PyTorch returns z itself above its threshold 20 (log1p(exp(-z)) < 2.1e-9 away);
    # gelu: PyTorch's z (1 + erf(z / √2)) / 2 cancels to -0.0 below z = -8 (|gelu| < 1e-14)
    np.testing.assert_allclose(got, value.detach().numpy(), rtol=1e-8, atol=1e-14)
    if derivative is not None:
        np.testing.assert_allclose(derivative, t.grad.numpy(), rtol=1e-8, atol=1e-14)


def test_the_derivative_is_written_only_where_kept():
    z = np.array([[0.5, -0.5]])
    d = np.full_like(z, 7.0)
    _core._activate(z, "tanh", derivative=d)
    np.testing.assert_array_equal(d, 7.0)
    with pytest.raises(ValueError, match="Z's shape"):
        _core._activate(np.zeros((2, 3)), "gelu", derivative=np.zeros((3, 2)))
