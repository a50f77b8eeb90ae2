"""Bad input, both estimators, against scikit-learn 1.9 on the same input.

Every case runs fastnn and scikit-learn on the same objects and compares what a user sees: the
exception (type and message) or the result, and the warnings. Where fastnn legitimately differs
the case states fastnn's outcome explicitly and says why. Every case also checks that the
caller's arrays (X, y, sample_weight, the data a model was fitted on) come out exactly as they
went in: bytes, shape, dtype and strides, for the fit and the predict paths alike.

Layouts that are not bad at all (Fortran order, negative or very large strides, read-only
arrays, memory maps, int64-indexed sparse matrices) must work and give bitwise what the
contiguous copy gives. Allocation failures run in a child process, so an abort would show as a
failed child instead of taking pytest down.
"""

import contextlib
import hashlib
import io
import pickle
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

import fastnn

CLF = (fastnn.MLPClassifier, SkMLPClassifier)
REG = (fastnn.MLPRegressor, SkMLPRegressor)
PAIRS = {"classifier": CLF, "regressor": REG}
SMALL = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)

NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)


# --------------------------------------------------------------------------- data
def _data(which):
    """Fresh arrays each call (cases may hold them read-only or mapped)."""
    if which == "classifier":
        X, y = make_classification(n_samples=80, n_features=6, n_informative=4,
                                   n_classes=3, random_state=0)
    else:
        X, y = make_regression(n_samples=80, n_features=6, noise=1.0, random_state=0)
        y = (y - y.mean()) / y.std()
    return StandardScaler().fit_transform(X), y


def _with(a, value, index=(3,)):
    """A float copy of ``a`` with ``value`` at ``index``."""
    a = np.array(a, dtype=np.float64)
    a[index] = value
    return a


# ------------------------------------------------------------------------ helpers
def _fingerprint(obj):
    """Everything about ``obj`` a callee could change: for arrays the bytes, shape, dtype and
    strides (and the bytes of the array a view looks into); recursively for containers."""
    if sp.issparse(obj):
        return ("sparse", obj.format, obj.shape, _fingerprint(obj.data),
                _fingerprint(obj.indices), _fingerprint(obj.indptr))
    if isinstance(obj, np.ndarray):
        base = obj.base if isinstance(obj.base, np.ndarray) else None
        digest = hashlib.sha256(obj.tobytes()).hexdigest() if obj.dtype != object else repr(
            obj.tolist())
        return (type(obj).__name__, obj.shape, obj.dtype.str, obj.strides,
                obj.flags.writeable, digest, None if base is None else _fingerprint(base))
    if isinstance(obj, dict):
        return {k: _fingerprint(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return tuple(_fingerprint(v) for v in obj)
    return repr(obj)


def _outcome(fn):
    """(("returned", value) or ("raised", type, message), [(category, message), ...]).

    numpy's RuntimeWarnings (overflow in matmul, ...) are left out: scikit-learn computes with
    numpy, which reports floating-point errors; fastnn's C++ core, like BLAS, does not."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            result = ("returned", fn())
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            result = ("raised", type(exc), str(exc))
    shown = [(w.category, str(w.message)) for w in caught if w.category is not RuntimeWarning]
    return result, shown


def _sorted_sets(message):
    """The message with each ``{...}`` set display sorted (set order follows string hashing)."""
    return re.sub(r"\{([^{}]*)\}",
                  lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def _assert_close_models(fast, sk, rtol=1e-7, atol=1e-9):
    assert type(fast).__name__ == type(sk).__name__
    assert len(fast.coefs_) == len(sk.coefs_)
    for a, b in zip(fast.coefs_ + fast.intercepts_, sk.coefs_ + sk.intercepts_):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for name in ("n_iter_", "t_", "n_outputs_", "n_layers_", "n_features_in_",
                 "out_activation_"):
        assert getattr(fast, name) == getattr(sk, name), name
    if hasattr(sk, "classes_"):
        np.testing.assert_array_equal(fast.classes_, sk.classes_)


def _assert_same_value(fast, sk):
    if hasattr(sk, "coefs_"):
        _assert_close_models(fast, sk)
    elif isinstance(sk, np.ndarray):
        assert fast.dtype == sk.dtype and fast.shape == sk.shape
        if sk.dtype.kind == "f":
            np.testing.assert_allclose(fast, sk, rtol=1e-7, atol=1e-9)
        else:
            np.testing.assert_array_equal(fast, sk)
    else:
        assert fast == pytest.approx(sk, rel=1e-7)


def _run_both(pair, data, call):
    """Both outcomes of ``call(estimator class, data)``; asserts ``data`` is left untouched."""
    before = _fingerprint(data)
    outcomes = []
    for C in pair:
        outcomes.append(_outcome(lambda: call(C, data)))
        assert _fingerprint(data) == before, f"{C.__module__} modified the caller's arrays"
    return outcomes


def _fit(C, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: few iterations on purpose
        return C(**{**SMALL, **params}).fit(X, y)


def _fitted(C, data, **params):
    return _fit(C, data["X_fit"], data["y_fit"], **params)


# -------------------------------------------------------------------- the battery
# name -> (make(which) -> data dict, call(C, data), scikit-learn's expected outcome:
# an exception type, a warning category (the call returns), or None (it just works)).
# The data dict holds every array passed to a call (all fingerprinted).
def _fit_case(X=None, y=None, sample_weight=None, **params):
    """A fit on the base data with X, y or sample_weight replaced (each a function of the
    clean array or a value)."""
    def make(which):
        X0, y0 = _data(which)
        data = {"X": X0, "y": y0}
        if X is not None:
            data["X"] = X(X0)
        if y is not None:
            data["y"] = y(y0, which)
        if sample_weight is not None:
            data["sample_weight"] = sample_weight(X0)
        return data

    def call(C, data):
        kw = {"sample_weight": data["sample_weight"]} if "sample_weight" in data else {}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Stochastic Optimizer: Maximum iterations")
            return C(**{**SMALL, **params}).fit(data["X"], data["y"], **kw)

    return make, call


def _predict_case(method, X=None, y=None, **params):
    """``method`` on a model fitted on clean data, with X (and y, for score / partial_fit)
    derived from the clean arrays."""
    def make(which):
        X0, y0 = _data(which)
        data = {"X_fit": X0, "y_fit": y0, "X": X(X0) if X else X0.copy()}
        if y is not None or method in ("score", "partial_fit", "fit"):
            data["y"] = y(y0, which) if y else y0.copy()
        return data

    def call(C, data):
        est = _fitted(C, data, **params)
        args = (data["X"], data["y"]) if "y" in data else (data["X"],)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Stochastic Optimizer: Maximum iterations")
            return getattr(est, method)(*args)

    return make, call


def _y_nonfinite(value):
    return lambda y, which: _with(y, value)


def _sparse_with(value):
    def make(X):
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
        X.data[2] = value
        return X
    return make


CASES = {
    # non-finite values
    "X-nan": (_fit_case(X=lambda X: _with(X, np.nan, (3, 2))), ValueError),
    "X-posinf": (_fit_case(X=lambda X: _with(X, np.inf, (3, 2))), ValueError),
    "X-neginf": (_fit_case(X=lambda X: _with(X, -np.inf, (3, 2))), ValueError),
    "X-float32-nan": (_fit_case(X=lambda X: _with(X, np.nan, (0, 0)).astype(np.float32)),
                      ValueError),
    "X-sparse-nan": (_fit_case(X=_sparse_with(np.nan)), ValueError),
    "X-sparse-inf": (_fit_case(X=_sparse_with(np.inf)), ValueError),
    "y-nan": (_fit_case(y=_y_nonfinite(np.nan)), ValueError),
    "y-posinf": (_fit_case(y=_y_nonfinite(np.inf)), ValueError),
    "y-neginf": (_fit_case(y=_y_nonfinite(-np.inf)), ValueError),
    "sample_weight-nan": (_fit_case(sample_weight=lambda X: _with(np.ones(len(X)), np.nan)),
                          ValueError),
    "sample_weight-posinf": (
        _fit_case(sample_weight=lambda X: _with(np.ones(len(X)), np.inf)), ValueError),
    "sample_weight-neginf": (
        _fit_case(sample_weight=lambda X: _with(np.ones(len(X)), -np.inf)), ValueError),
    "sample_weight-length": (_fit_case(sample_weight=lambda X: np.ones(len(X) - 1)),
                             ValueError),
    "sample_weight-2d": (_fit_case(sample_weight=lambda X: np.ones((len(X), 2))), ValueError),
    # dtypes of X
    "X-complex": (_fit_case(X=lambda X: X + 1j), ValueError),
    "X-complex-zero-imag": (_fit_case(X=lambda X: X.astype(np.complex128)), ValueError),
    "X-object-numbers": (_fit_case(X=lambda X: X.astype(object)), None),
    "X-object-mixed": (_fit_case(X=lambda X: np.where(X > 0, "a", X.astype(object))),
                       ValueError),
    "X-object-None": (_fit_case(X=lambda X: np.where(X > 0, None, X.astype(object))),
                      ValueError),
    "X-str-numeric": (_fit_case(X=lambda X: X.astype(str)), None),  # parsed, as numpy does
    "X-str": (_fit_case(X=lambda X: np.full(X.shape, "a")), ValueError),
    "X-bytes": (_fit_case(X=lambda X: np.full(X.shape, b"a")), ValueError),
    "X-bool": (_fit_case(X=lambda X: X > 0), None),
    "X-float16": (_fit_case(X=lambda X: X.astype(np.float16)), None),
    "X-uint8": (_fit_case(X=lambda X: (np.abs(X) * 50).astype(np.uint8)), None),
    # shapes
    "no-samples": (_fit_case(X=lambda X: X[:0], y=lambda y, w: y[:0]), ValueError),
    "no-features": (_fit_case(X=lambda X: X[:, :0]), ValueError),
    "one-sample": (_fit_case(X=lambda X: X[:1], y=lambda y, w: y[:1]), None),
    "one-sample-early-stopping": (
        _fit_case(X=lambda X: X[:1], y=lambda y, w: y[:1], early_stopping=True), ValueError),
    "X-1d": (_fit_case(X=lambda X: X[:, 0]), ValueError),
    "X-0d": (_fit_case(X=lambda X: np.float64(X[0, 0])), ValueError),
    "X-3d": (_fit_case(X=lambda X: X.reshape(X.shape[0], 2, 3)), ValueError),
    "y-3d": (_fit_case(y=lambda y, w: y.reshape(-1, 1, 1)), ValueError),
    "X-y-lengths": (_fit_case(y=lambda y, w: y[:-1]), ValueError),
    "X-list-ragged": (_fit_case(X=lambda X: [list(r) for r in X[:-1]] + [[1.0]]),
                      ValueError),
    # hyperparameters
    "hidden-zero": (_fit_case(hidden_layer_sizes=(4, 0)), ValueError),
    "hidden-negative": (_fit_case(hidden_layer_sizes=(-3,)), ValueError),
    "hidden-float": (_fit_case(hidden_layer_sizes=(4.5,)), TypeError),
    "hidden-integral-float": (_fit_case(hidden_layer_sizes=(4.0,)), TypeError),
    "hidden-scalar-float": (_fit_case(hidden_layer_sizes=4.0), ValueError),
    "hidden-str": (_fit_case(hidden_layer_sizes=("4",)), TypeError),
    "hidden-nested": (_fit_case(hidden_layer_sizes=[[4, 4]]), TypeError),
    "batch-size-zero": (_fit_case(batch_size=0), ValueError),
    "batch-size-negative": (_fit_case(batch_size=-5), ValueError),
    "batch-size-above-n": (_fit_case(batch_size=10_000), UserWarning),
    "batch-size-astronomic": (_fit_case(batch_size=2**70), UserWarning),
    "learning-rate-inf": (_fit_case(learning_rate_init=np.inf), ValueError),
    "learning-rate-nan": (_fit_case(learning_rate_init=np.nan), ValueError),
    "alpha-inf": (_fit_case(alpha=np.inf), ValueError),
    # divergence: weights overflow to inf / NaN
    "X-huge-sgd": (_fit_case(X=lambda X: X * 1e200, solver="sgd", max_iter=5), ValueError),
    "X-huge-lbfgs": (_fit_case(X=lambda X: X * 1e300, solver="lbfgs", max_iter=5),
                     "lbfgs"),
    # predict / predict_proba / score / partial_fit on a model fitted on clean data
    "predict-X-nan": (_predict_case("predict", X=lambda X: _with(X, np.nan, (0, 1))),
                      ValueError),
    "predict-X-posinf": (_predict_case("predict", X=lambda X: _with(X, np.inf, (0, 1))),
                         ValueError),
    "predict-X-neginf": (_predict_case("predict", X=lambda X: _with(X, -np.inf, (5, 5))),
                         ValueError),
    "predict-X-sparse-nan": (_predict_case("predict", X=_sparse_with(np.nan)), ValueError),
    "predict-X-complex": (_predict_case("predict", X=lambda X: X + 1j), ValueError),
    "predict-X-str": (_predict_case("predict", X=lambda X: np.full(X.shape, "a")), ValueError),
    "predict-X-object-None": (
        _predict_case("predict", X=lambda X: np.where(X > 0, None, X.astype(object))),
        ValueError),
    "predict-X-bool": (_predict_case("predict", X=lambda X: X > 0), None),
    "predict-X-int": (_predict_case("predict", X=lambda X: (X * 3).astype(np.int64)), None),
    "predict-X-float16": (_predict_case("predict", X=lambda X: X.astype(np.float16)), None),
    "predict-X-longdouble": (_predict_case("predict", X=lambda X: X.astype(np.longdouble)),
                             None),
    "predict-no-samples": (_predict_case("predict", X=lambda X: X[:0]), ValueError),
    "predict-no-features": (_predict_case("predict", X=lambda X: X[:, :0]), ValueError),
    "predict-one-sample": (_predict_case("predict", X=lambda X: X[:1]), None),
    "predict-X-1d": (_predict_case("predict", X=lambda X: X[0]), ValueError),
    "predict-X-3d": (_predict_case("predict", X=lambda X: X[None]), ValueError),
    "predict-fewer-features": (_predict_case("predict", X=lambda X: X[:, :4]), ValueError),
    "predict-more-features": (_predict_case("predict", X=lambda X: np.c_[X, X]), ValueError),
    "predict-sparse-fewer-features": (
        _predict_case("predict", X=lambda X: sp.csr_matrix(X[:, :4])), ValueError),
    "score-fewer-features": (_predict_case("score", X=lambda X: X[:, :4]), ValueError),
    "score-y-length": (_predict_case("score", y=lambda y, w: y[:-1]), ValueError),
    "score-y-nan": (_predict_case("score", y=_y_nonfinite(np.nan)), ValueError),
    "partial_fit-fewer-features": (_predict_case("partial_fit", X=lambda X: X[:, :4]),
                                   ValueError),
    "partial_fit-X-nan": (_predict_case("partial_fit", X=lambda X: _with(X, np.nan, (1, 1))),
                          ValueError),
    "partial_fit-y-length": (_predict_case("partial_fit", y=lambda y, w: y[:-1]), ValueError),
    "warm-fit-fewer-features": (
        _predict_case("fit", X=lambda X: X[:, :4], warm_start=True), ValueError),
}

CLASSIFIER_CASES = {
    "predict_proba-fewer-features": (_predict_case("predict_proba", X=lambda X: X[:, :4]),
                                     ValueError),
    "predict_log_proba-X-nan": (
        _predict_case("predict_log_proba", X=lambda X: _with(X, np.nan, (2, 0))), ValueError),
    "predict_proba-X-complex": (_predict_case("predict_proba", X=lambda X: X + 1j), ValueError),
    "predict_proba-X-longdouble": (
        _predict_case("predict_proba", X=lambda X: X.astype(np.longdouble)), None),
    "partial_fit-unseen-label": (
        _predict_case("partial_fit", y=lambda y, w: np.where(y == 2, 7, y)), ValueError),
    "partial_fit-str-label-unseen": (
        _predict_case("partial_fit", y=lambda y, w: np.where(y == 2, "z", y.astype(str))),
        ValueError),
    "warm-fit-other-classes": (
        _predict_case("fit", y=lambda y, w: y % 2, warm_start=True), ValueError),
    "y-continuous": (_fit_case(y=lambda y, w: y + 0.5), ValueError),
    "y-object-None": (_fit_case(y=lambda y, w: np.where(y == 0, None, y.astype(object))),
                      TypeError),
}

# A classifier's saturating outputs (softmax / logistic) keep its weights finite at any
# learning rate; a regressor's identity output lets them overflow.
REGRESSOR_CASES = {
    "partial_fit-absurd-learning-rate": (
        _predict_case("partial_fit", solver="sgd", learning_rate_init=1e10), ValueError),
    "absurd-learning-rate-sgd": (_fit_case(solver="sgd", learning_rate_init=1e10, max_iter=5),
                                 ValueError),
    "absurd-learning-rate-adam": (
        _fit_case(solver="adam", learning_rate_init=1e300, max_iter=5), ValueError),
    "X-huge-adam": (_fit_case(X=lambda X: X * 1e200, solver="adam", max_iter=5), ValueError),
    "y-2d-wrong-rows": (_fit_case(y=lambda y, w: np.c_[y, y][:-2]), ValueError),
}



def _computed_in_float64(fast, sk):
    """fastnn's core computes in float32 or float64 only: extended-precision X is predicted in
    float64 (scikit-learn's numpy products keep np.longdouble). Same values to float64
    rounding, same labels."""
    assert fast[0] == sk[0] == "returned"
    a, b = fast[1], sk[1]
    assert a.shape == b.shape
    if b.dtype.kind == "f":
        assert b.dtype == np.longdouble and a.dtype == np.float64
        np.testing.assert_allclose(a, b.astype(np.float64), rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_array_equal(a, b)


# Where fastnn legitimately differs: case -> a check of both outcomes (see its docstring).
KNOWN_DIFFERENCES = {
    "predict-X-longdouble": _computed_in_float64,
    "predict_proba-X-longdouble": _computed_in_float64,
}

BATTERY = (
    [("classifier", name) for name in {**CASES, **CLASSIFIER_CASES}]
    + [("regressor", name) for name in {**CASES, **REGRESSOR_CASES}]
)
ALL_CASES = {**CASES, **CLASSIFIER_CASES, **REGRESSOR_CASES}


@pytest.mark.parametrize("which,case", BATTERY, ids=[f"{w}-{c}" for w, c in BATTERY])
def test_bad_input_outcome_and_callers_arrays_like_sklearn(which, case):
    (make, call), expected = ALL_CASES[case]
    pair = PAIRS[which]
    data = make(which)
    (fast, fast_warnings), (sk, sk_warnings) = _run_both(pair, data, call)

    # the case does what it is meant to exercise (in scikit-learn, the reference)
    if isinstance(expected, type) and issubclass(expected, Warning):
        assert sk[0] == "returned" and any(c is expected for c, _ in sk_warnings), sk
    elif isinstance(expected, type) and issubclass(expected, Exception):
        assert sk[0] == "raised" and issubclass(sk[1], expected), (sk, expected)
    elif expected == "lbfgs":  # L-BFGS-B stops at once (status 2) on overflowing values
        assert sk[0] == "returned" and "lbfgs failed to converge" in sk_warnings[0][1]
    else:
        assert sk[0] == "returned", sk

    if "huge" in case or "absurd" in case:
        assert sk[0] == "returned" or sk[2] == NON_FINITE_WEIGHTS
    if case in KNOWN_DIFFERENCES:
        KNOWN_DIFFERENCES[case](fast, sk)
        assert fast_warnings == sk_warnings
        return
    assert fast[0] == sk[0], (fast, sk)
    if fast[0] == "raised":
        assert fast[1] is sk[1]
        assert _sorted_sets(fast[2]) == _sorted_sets(sk[2])
    else:
        _assert_same_value(fast[1], sk[1])
    assert fast_warnings == sk_warnings


# ------------------------------------------------- layouts that must just work, bitwise
def _spread(X, row_step=1, col_step=1):
    """A view of a larger zero array holding X every ``row_step`` rows / ``col_step`` columns."""
    big = np.zeros((X.shape[0] * row_step, X.shape[1] * col_step), dtype=X.dtype)
    big[::row_step, ::col_step] = X
    return big[::row_step, ::col_step]


def _read_only(a):
    a = a.copy()
    a.setflags(write=False)
    return a


def _memmap(a, path, mode, order="C"):
    m = np.memmap(path, dtype=a.dtype, mode="w+", shape=a.shape, order=order)
    m[:] = a
    m.flush()
    del m
    return np.memmap(path, dtype=a.dtype, mode=mode, shape=a.shape, order=order)


# name -> make(X, y, tmp_path) -> (X view, y view): views whose contiguous copies are the
# reference. y follows X's row order where the view reorders rows.
LAYOUTS = {
    "fortran": lambda X, y, d: (np.asfortranarray(X), y),
    "column-step": lambda X, y, d: (_spread(X, col_step=2), y),
    "row-step": lambda X, y, d: (_spread(X, row_step=3), _spread(y[:, None], 3)[:, 0]),
    "negative-row-stride": lambda X, y, d: (X[::-1], y[::-1]),
    "negative-column-stride": lambda X, y, d: (X[:, ::-1], y),
    "negative-both-fortran": lambda X, y, d: (np.asfortranarray(X)[::-1, ::-1], y[::-1]),
    "read-only": lambda X, y, d: (_read_only(X), _read_only(y)),
    "memmap-r": lambda X, y, d: (_memmap(X, d / "X.dat", "r"), _memmap(y, d / "y.dat", "r")),
    "memmap-c": lambda X, y, d: (_memmap(X, d / "X.dat", "c"), y),
    "memmap-r-fortran-reversed": lambda X, y, d: (_memmap(X, d / "X.dat", "r", "F")[:, ::-1], y),
    "huge-row-stride": lambda X, y, d: (_spread(X, row_step=4099), y),
    "huge-column-stride": lambda X, y, d: (_spread(X, col_step=8191), y),
    "zero-row-stride": lambda X, y, d: (np.broadcast_to(X[:1], X.shape), y),
    "float32-fortran": lambda X, y, d: (np.asfortranarray(X, dtype=np.float32), y),
    "float32-huge-stride": lambda X, y, d: (_spread(X.astype(np.float32), 257, 33), y),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("which", list(PAIRS))
def test_strided_mapped_and_read_only_views_fit_and_predict_as_their_copy(which, layout,
                                                                          tmp_path):
    X0, y0 = _data(which)
    X, y = LAYOUTS[layout](X0, y0, tmp_path)
    Xc, yc = np.ascontiguousarray(X), np.ascontiguousarray(y)
    # each layout is something other than a plain, owned, writable C-contiguous array
    assert not (type(X) is np.ndarray and X.flags.c_contiguous and X.flags.writeable
                and X.flags.owndata)
    sample_weight = _spread(np.linspace(0.5, 2.0, len(y))[:, None], 2)[:, 0]  # strided too
    Fast, Sk = PAIRS[which]
    data = {"X": X, "y": y, "sample_weight": sample_weight}
    before = _fingerprint(data)

    fast = _fit(Fast, X, y, solver="sgd")
    fast_sw = _fit(Fast, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast_sw.partial_fit(X, y, sample_weight=sample_weight)
    ref = _fit(Fast, Xc, yc, solver="sgd")
    ref_sw = _fit(Fast, Xc, yc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_sw.partial_fit(Xc, yc, sample_weight=np.ascontiguousarray(sample_weight))
    for a, b in ((fast, ref), (fast_sw, ref_sw)):
        for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            assert u.dtype == v.dtype and np.array_equal(u, v)
    methods = ["predict", "predict_proba"] if which == "classifier" else ["predict"]
    for method in methods:
        out, expected = getattr(ref, method)(X), getattr(ref, method)(Xc)
        assert out.dtype == expected.dtype and np.array_equal(out, expected), method
    assert ref.score(X, y) == ref.score(Xc, yc)
    assert _fingerprint(data) == before

    sk = _fit(Sk, X, y, solver="sgd")  # and scikit-learn agrees on the view
    _assert_close_models(fast, sk, rtol=1e-6, atol=1e-8) if X.dtype == np.float64 else (
        _assert_close_models(fast, sk, rtol=1e-3, atol=1e-4))
    assert _fingerprint(data) == before


@pytest.mark.parametrize("container", ["csr_matrix", "csc_matrix", "csr_array"])
@pytest.mark.parametrize("which", list(PAIRS))
def test_int64_indexed_sparse_X_fits_and_predicts_as_int32(which, container):
    X0, y = _data(which)
    X0 = np.where(np.abs(X0) > 0.7, X0, 0.0)
    make = getattr(sp, container)
    X32 = make(X0)
    X32.indices = X32.indices.astype(np.int32)
    X32.indptr = X32.indptr.astype(np.int32)
    X64 = X32.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    assert X64.indices.dtype == X64.indptr.dtype == np.int64
    before = _fingerprint(X64)
    Fast, Sk = PAIRS[which]
    fast64, fast32 = _fit(Fast, X64, y), _fit(Fast, X32, y)
    for u, v in zip(fast64.coefs_ + fast64.intercepts_, fast32.coefs_ + fast32.intercepts_):
        assert np.array_equal(u, v)
    assert np.array_equal(fast64.predict(X64), fast32.predict(X32))
    # (sparse products sum in another order than dense ones: equal to rounding only)
    np.testing.assert_allclose(fast32.predict(X64), fast32.predict(X0), rtol=1e-12, atol=1e-12)
    assert _fingerprint(X64) == before
    assert X64.indices.dtype == np.int64  # the caller's matrix was not downcast in place
    _assert_close_models(fast64, _fit(Sk, X64, y))


# ---------------------------------------------------- tampered (unpickled) fitted arrays
def _tamper(model, kind):
    """A pickle round trip of ``model`` with one fitted attribute corrupted."""
    m = pickle.loads(pickle.dumps(model))
    c, b = m.coefs_, m.intercepts_
    if kind == "coefs-chain":  # coefs_[1] no longer takes coefs_[0]'s outputs
        c[1] = np.zeros((c[1].shape[0] + 1, c[1].shape[1]))
    elif kind == "coefs0-rows":  # coefs_[0] disagrees with n_features_in_
        c[0] = np.zeros((c[0].shape[0] - 2, c[0].shape[1]))
    elif kind == "intercept-long":
        b[0] = np.zeros(b[0].shape[0] + 1)
    elif kind == "intercept-empty":
        b[-1] = np.zeros(0)
    elif kind == "n_features_in_":  # predict validates X against it: a narrower X gets in
        m.n_features_in_ = c[0].shape[0] - 1
    elif kind == "intercept-missing":
        m.intercepts_ = b[:-1]
    elif kind == "coefs-1d":
        c[0] = c[0].ravel()
    elif kind == "out_activation_":
        m.out_activation_ = "bogus"
    return pickle.loads(pickle.dumps(m))


# kind -> (fastnn's message, scikit-learn's exception type). scikit-learn's messages are
# numpy's (matmul / broadcasting errors, or an IndexError for a missing layer, a KeyError for
# an unknown activation); fastnn's core checks the layers before it reads them and names the
# attribute at fault, always as a ValueError.
TAMPERED = {
    "coefs-chain": ("coefs_[1] has 6 rows but coefs_[0] has 5 columns", ValueError),
    "coefs0-rows": ("X has 6 features, but the network expects 4", ValueError),
    "intercept-long": ("intercepts_[0] has 6 entries but coefs_[0] has 5 columns", ValueError),
    "intercept-empty": ("intercepts_[1] has 0 entries but coefs_[1] has {out} columns",
                        ValueError),
    "n_features_in_": ("X has 5 features, but the network expects 6", ValueError),
    "intercept-missing": ("coefs_ and intercepts_ must have the same length", IndexError),
    "coefs-1d": ("coefs_[i] must be a 2-D array", ValueError),
    "out_activation_": ("unknown activation 'bogus'", KeyError),
}


@pytest.mark.parametrize("kind", list(TAMPERED))
@pytest.mark.parametrize("which", list(PAIRS))
def test_tampered_fitted_arrays_raise_a_clear_value_error(which, kind):
    X, y = _data(which)
    models = [_tamper(_fit(C, X, y), kind) for C in PAIRS[which]]
    Xp = X[:, :models[0].n_features_in_].copy()  # the width the model says it expects
    message, sk_type = TAMPERED[kind]
    message = message.format(out=models[0].coefs_[-1].shape[1])
    before = _fingerprint(Xp)
    methods = ["predict", "predict_proba"] if which == "classifier" else ["predict"]
    for method in methods:
        fast, sk = (_outcome(lambda: getattr(m, method)(Xp))[0] for m in models)
        assert fast == ("raised", ValueError, message), (method, fast)
        assert sk[0] == "raised" and issubclass(sk[1], sk_type), (method, sk)
    assert _fingerprint(Xp) == before


# ------------------------------------------------------------- allocations and threads
_HUGE_FIT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    import fastnn
    from fastnn import _core

    X = np.random.RandomState(0).rand(20, 6)
    y = np.arange(20) % 2
    results = {}
    for hidden in [(10**9, 10**9), (10**5, 10**5), (2**62,), (2**63,)]:
        for Est in (fastnn.MLPClassifier, MLPClassifier, fastnn.MLPRegressor, MLPRegressor):
            key = "%s-%s-%s" % (Est.__module__.split(".")[0], Est.__name__, hidden)
            try:
                Est(hidden_layer_sizes=hidden, max_iter=1).fit(X, y)
                results[key] = ["returned", ""]
            except Exception as exc:
                results[key] = [type(exc).__name__, str(exc)]
    # the core itself, given a network whose buffers cannot be allocated
    for units in ([6, 10**9, 10**9, 1], [6, 10**9, 1], [6, 2**40, 2**20, 1]):
        for Trainer in (_core.Trainer32, _core.Trainer64):
            try:
                net = _core.Network(units, "relu", "identity", "squared_error")
                Trainer(net, 6, 200, 0.0)
                results["core-%s-%s" % (Trainer.__name__, units)] = ["returned", ""]
            except Exception as exc:
                results["core-%s-%s" % (Trainer.__name__, units)] = [type(exc).__name__,
                                                                      str(exc)]
    json.dump(results, sys.stdout)
    """
)


@pytest.mark.slow
@pytest.mark.subprocess
def test_unallocatable_hidden_layers_raise_in_a_child_process_like_sklearn():
    child = subprocess.run([sys.executable, "-c", _HUGE_FIT], capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == 0, child.stderr  # no abort, no OOM kill
    import json

    results = json.loads(child.stdout)
    for hidden in ["(1000000000, 1000000000)", "(100000, 100000)",
                   "(4611686018427387904,)", "(9223372036854775808,)"]:
        for name in ("MLPClassifier", "MLPRegressor"):
            fast = results[f"fastnn-{name}-{hidden}"]
            sk = results[f"sklearn-{name}-{hidden}"]
            assert fast[0] in ("MemoryError", "ValueError"), fast
            assert fast == sk  # the same numpy error, raised drawing the initial weights
    for key, value in results.items():
        if key.startswith("core-"):
            assert value[0] in ("MemoryError", "ValueError"), (key, value)


def test_astronomic_n_threads_runs_as_many_threads_as_useful():
    # n_threads >= 2**31 reached the core's C int as a TypeError from the binding; the core
    # never runs more threads than it has blocks of work, so any larger request is the same.
    X, y = _data("classifier")
    one = _fit(fastnn.MLPClassifier, X, y, n_threads=1)
    for n_threads in (10**6, 2**31, 10**30):
        many = _fit(fastnn.MLPClassifier, X, y, n_threads=n_threads)
        for u, v in zip(one.coefs_ + one.intercepts_, many.coefs_ + many.intercepts_):
            assert np.array_equal(u, v)
        assert np.array_equal(many.predict_proba(X), one.predict_proba(X))
