"""Persistence: pickle and joblib round trips, loading in a fresh interpreter, read-only
(memory-mapped) fitted arrays, and training that goes on after unpickling."""

import hashlib
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

import fastnn

from _util import fit_quiet, partial_fit_quiet

DTYPES = [np.float64, np.float32]
DTYPE_IDS = ["float64", "float32"]
ESTIMATORS = ["classifier", "regressor"]


def _data(which, dtype):
    if which == "classifier":
        X, y = make_classification(
            n_samples=150, n_features=10, n_informative=6, n_classes=3, random_state=0
        )
    else:
        X, y = make_regression(n_samples=150, n_features=10, n_targets=2, random_state=0)
        y = y / np.abs(y).max()
    return X.astype(dtype), y


def _make(which, **params):
    Est = fastnn.MLPClassifier if which == "classifier" else fastnn.MLPRegressor
    return Est(hidden_layer_sizes=(16, 8), max_iter=20, random_state=0, **params)


def _fitted(which, dtype, **params):
    X, y = _data(which, dtype)
    return fit_quiet(_make(which, **params), X, y), X, y


def _outputs(model, X):
    """Everything a fitted model predicts on X."""
    out = {"predict": model.predict(X)}
    if hasattr(model, "predict_proba"):
        out["predict_proba"] = model.predict_proba(X)
        out["predict_log_proba"] = model.predict_log_proba(X)
    return out


def _assert_same_outputs(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert np.array_equal(a[key], b[key]), key


def _assert_same_weights(a, b):
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert u.dtype == v.dtype
        assert np.array_equal(u, v)


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("which", ESTIMATORS)
@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_round_trip_predicts_identically(how, which, dtype, tmp_path):
    model, X, y = _fitted(which, dtype)
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    else:
        joblib.dump(model, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")

    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    _assert_same_weights(loaded, model)
    assert loaded.coefs_[0].dtype == dtype
    _assert_same_outputs(_outputs(loaded, X), _outputs(model, X))
    assert loaded.score(X, y) == model.score(X, y)
    for name in ("n_iter_", "t_", "loss_", "loss_curve_", "best_loss_", "n_features_in_"):
        assert getattr(loaded, name) == getattr(model, name), name


@pytest.mark.parametrize(
    "params",
    [dict(solver="lbfgs"), dict(solver="sgd", early_stopping=True)],
    ids=["lbfgs", "sgd-early-stopping"],
)
def test_round_trip_other_solvers(params):
    model, X, _ = _fitted("classifier", np.float64, **params)
    loaded = pickle.loads(pickle.dumps(model))
    _assert_same_weights(loaded, model)
    _assert_same_outputs(_outputs(loaded, X), _outputs(model, X))


def test_unfitted_round_trip():
    model = _make("classifier", n_threads=2)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.get_params() == model.get_params()
    assert not hasattr(loaded, "coefs_")


# ------------------------------------------------------------------ fresh interpreter
_LOAD_AND_PREDICT = textwrap.dedent(
    """
    import pickle, sys
    import joblib
    import numpy as np

    directory = sys.argv[1]
    results = {}
    for name in sys.argv[2:]:
        how, which, dtype = name.split("-")
        path = directory + "/" + name
        if how == "pickle":
            with open(path, "rb") as f:
                model = pickle.load(f)
        else:
            model = joblib.load(path)
        assert "fastnn" in sys.modules, "loading a model imports fastnn"
        X = np.load(directory + "/X-" + which + "-" + dtype + ".npy")
        results[name + "-predict"] = model.predict(X)
        if hasattr(model, "predict_proba"):
            results[name + "-predict_proba"] = model.predict_proba(X)
    np.savez(directory + "/results.npz", **results)
    """
)


@pytest.mark.subprocess
def test_load_in_a_fresh_interpreter(tmp_path):
    expected = {}
    names = []
    for dtype, dtype_id in zip(DTYPES, DTYPE_IDS):
        for which in ESTIMATORS:
            model, X, _ = _fitted(which, dtype)
            np.save(tmp_path / f"X-{which}-{dtype_id}.npy", X)
            for how in ("pickle", "joblib"):
                name = f"{how}-{which}-{dtype_id}"
                names.append(name)
                if how == "pickle":
                    (tmp_path / name).write_bytes(pickle.dumps(model))
                else:
                    joblib.dump(model, tmp_path / name)
                for key, value in _outputs(model, X).items():
                    if key != "predict_log_proba":
                        expected[f"{name}-{key}"] = value

    # the fresh interpreter does not import fastnn before unpickling
    subprocess.run(
        [sys.executable, "-c", _LOAD_AND_PREDICT, str(tmp_path), *names],
        check=True, capture_output=True, text=True, timeout=120,
    )
    with np.load(tmp_path / "results.npz") as results:
        assert sorted(results.files) == sorted(expected)
        for key, value in expected.items():
            assert results[key].dtype == value.dtype, key
            assert np.array_equal(results[key], value), key


# ------------------------------------------------------------------ read-only fitted arrays
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("which", ESTIMATORS)
def test_memory_mapped_model(which, dtype, tmp_path):
    """joblib.load(mmap_mode="r") gives read-only memmaps for every fitted array, the
    optimizer state included. Prediction, scoring and further training work; the file is
    not modified; training resumes exactly as from a normally loaded copy."""
    model, X, y = _fitted(which, dtype)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    digest = _sha256(path)

    mapped = joblib.load(path, mmap_mode="r")
    for a in mapped.coefs_ + mapped.intercepts_ + [mapped._optimizer.ms]:
        assert isinstance(a, np.memmap) and not a.flags.writeable
    _assert_same_outputs(_outputs(mapped, X), _outputs(model, X))
    assert mapped.score(X, y) == model.score(X, y)

    # partial_fit: continues with the pickled optimizer state, as a normal copy would
    reference = joblib.load(path)
    partial_fit_quiet(mapped, X, y)
    partial_fit_quiet(reference, X, y)
    _assert_same_weights(mapped, reference)
    assert mapped.t_ == reference.t_ == model.t_ + X.shape[0]

    # warm-start fit from read-only weights
    warm = joblib.load(path, mmap_mode="r").set_params(warm_start=True, max_iter=3)
    fit_quiet(warm, X, y)
    assert warm.n_iter_ == 3
    assert not np.array_equal(warm.coefs_[0], model.coefs_[0])
    assert all(a.flags.writeable for a in warm.coefs_)

    # and a plain refit of the memory-mapped estimator
    fit_quiet(joblib.load(path, mmap_mode="r"), X, y)

    assert _sha256(path) == digest
    _assert_same_outputs(_outputs(joblib.load(path), X), _outputs(model, X))


def test_read_only_inputs():
    """Read-only X, y and sample_weight (as joblib hands to parallel workers) are accepted
    for fitting and prediction."""
    X, y = _data("classifier", np.float32)
    sample_weight = np.ones(X.shape[0], dtype=np.float32)
    for a in (X, y, sample_weight):
        a.setflags(write=False)
    model = fit_quiet(_make("classifier"), X, y, sample_weight=sample_weight)
    partial_fit_quiet(model, X, y, sample_weight=sample_weight)
    model.predict_proba(X)


# ------------------------------------------------------------------ training after unpickling
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(
    "params",
    [dict(solver="adam"), dict(solver="sgd"), dict(solver="sgd", learning_rate="invscaling")],
    ids=["adam", "sgd", "sgd-invscaling"],
)
@pytest.mark.parametrize("which", ESTIMATORS)
def test_partial_fit_continues_after_unpickling(which, params, dtype):
    """The optimizer state (Adam moments and step count, SGD velocity, learning rate) is
    pickled: an unpickled model's partial_fit follows the original's trajectory exactly."""
    X, y = _data(which, dtype)
    model = _make(which, **params)
    fit_kw = {"classes": np.unique(y)} if which == "classifier" else {}
    for _ in range(3):
        partial_fit_quiet(model, X, y, **fit_kw)
    loaded = pickle.loads(pickle.dumps(model))
    for _ in range(2):
        partial_fit_quiet(model, X, y)
        partial_fit_quiet(loaded, X, y)
    _assert_same_weights(loaded, model)
    assert loaded.t_ == model.t_ == 5 * X.shape[0]
    assert loaded.loss_curve_ == model.loss_curve_
    _assert_same_outputs(_outputs(loaded, X), _outputs(model, X))
