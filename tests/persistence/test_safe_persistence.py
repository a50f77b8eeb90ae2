"""fastnn.save / fastnn.load: pickle-free model files (.npz of numeric arrays + JSON).

Round trips predict bitwise what the saved model predicts and keep training; the file holds no
pickle; every check ``load`` makes is violated once by rewriting a valid file; foreign,
corrupt and truncated files raise ValueError; and a fuzz loop of random byte flips and
truncations finds nothing but loaded models and ValueErrors (a batch of it in a child process,
so that a crash would show as a failed child).
"""

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

import fastnn


# ------------------------------------------------------------------------------- data
def _clf_data(n_classes=3, seed=0):
    X, y = make_classification(n_samples=90, n_features=6, n_informative=4,
                               n_classes=n_classes, random_state=seed)
    return StandardScaler().fit_transform(X), y


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: few iterations on purpose
        return est.fit(X, y, **kw)


def _model(kind, dtype=np.float64):
    """(fitted model, X, y) for one kind of model."""
    X, y = _clf_data()
    small = dict(hidden_layer_sizes=(7,), max_iter=5, random_state=0)
    if kind == "binary":
        y = y % 2
        est = fastnn.MLPClassifier(**small)
    elif kind == "multiclass":
        est = fastnn.MLPClassifier(**small)
    elif kind == "multilabel":
        y = np.c_[y == 0, y == 1, X[:, 0] > 0].astype(int)
        est = fastnn.MLPClassifier(**small)
    elif kind == "multilabel-sparse-y":
        y = sp.csr_matrix(np.c_[y == 0, y == 1, X[:, 0] > 0].astype(int))
        est = fastnn.MLPClassifier(**small)
    elif kind == "string-labels":
        y = np.array(["cat", "dog", "emu"])[y]
        est = fastnn.MLPClassifier(**small)
    elif kind == "bool-labels":
        y = y == 1
        est = fastnn.MLPClassifier(**small)
    elif kind == "float-labels":
        y = y * 2.0 - 1.0
        est = fastnn.MLPClassifier(**small)
    elif kind == "single-class":
        y = np.full(len(y), 4)
        est = fastnn.MLPClassifier(**small)
    elif kind == "regressor-1":
        X, y = make_regression(n_samples=90, n_features=6, noise=1.0, random_state=0)
        y = y / np.abs(y).max()
        est = fastnn.MLPRegressor(**small)
    elif kind == "regressor-2":
        X, y = make_regression(n_samples=90, n_features=6, n_targets=2, random_state=0)
        y = y / np.abs(y).max()
        est = fastnn.MLPRegressor(**small)
    elif kind == "poisson":
        y = np.abs(X[:, 0]) + 0.1
        est = fastnn.MLPRegressor(loss="poisson", **small)
    elif kind == "lbfgs":
        est = fastnn.MLPClassifier(solver="lbfgs", **small)
    elif kind == "early-stopping-classifier":
        est = fastnn.MLPClassifier(early_stopping=True, n_iter_no_change=2,
                                   **{**small, "max_iter": 30})
    elif kind == "early-stopping-regressor":
        y = X[:, 0] - X[:, 1]
        est = fastnn.MLPRegressor(early_stopping=True, n_iter_no_change=2, solver="sgd",
                                  **{**small, "max_iter": 30})
    elif kind == "dropout":
        est = fastnn.MLPClassifier(dropout=[0.2, 0.1], **{**small, "hidden_layer_sizes": (7, 5)})
    elif kind == "leaky-relu":
        est = fastnn.MLPRegressor(activation="leaky_relu", leaky_relu_slope=0.1, **small)
        y = X[:, 0] * 2
    elif kind == "residual":
        est = fastnn.MLPClassifier(residual=True, **{**small, "hidden_layer_sizes": (8, 8)})
    elif kind == "gelu-residual":
        est = fastnn.MLPClassifier(activation="gelu", residual=True,
                                   **{**small, "hidden_layer_sizes": (8, 8)})
    elif kind == "silu-regressor":
        est = fastnn.MLPRegressor(activation="silu", **small)
    elif kind == "squared-error-classifier":
        est = fastnn.MLPClassifier(loss="squared_error", weight_init=0.5, **small)
    elif kind == "partial-fit-unseen-class":  # classes_ from partial_fit's classes argument
        est = fastnn.MLPClassifier(**small)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.partial_fit(X.astype(dtype), y, classes=[0, 1, 2, 5])
        return est, X.astype(dtype), y
    elif kind == "odd-params":
        est = fastnn.MLPClassifier(n_iter_no_change=np.inf, hidden_layer_sizes=np.array([4, 3]),
                                   n_threads=1, weight_init="he_normal", max_iter=3,
                                   random_state=0)
    else:
        raise AssertionError(kind)
    return _fit(est, X.astype(dtype), y), X.astype(dtype), y


ROUND_TRIP_KINDS = [
    "binary", "multiclass", "multilabel", "multilabel-sparse-y", "string-labels",
    "bool-labels", "float-labels", "single-class", "regressor-1", "regressor-2", "poisson",
    "lbfgs", "early-stopping-classifier", "early-stopping-regressor", "dropout", "leaky-relu",
    "residual", "gelu-residual", "silu-regressor", "squared-error-classifier",
    "partial-fit-unseen-class", "odd-params",
]

FITTED = ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_", "n_iter_", "t_",
          "loss_", "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_",
          "_no_improvement_count")


def _outputs(model, X):
    out = {"predict": model.predict(X)}
    if hasattr(model, "predict_proba"):
        out["predict_proba"] = model.predict_proba(X)
    return out


def _assert_same_outputs(a, b):
    assert a.keys() == b.keys()
    for key in a:
        u, v = a[key], b[key]
        if sp.issparse(u):
            assert sp.issparse(v) and u.shape == v.shape and (u != v).nnz == 0
            continue
        assert type(u) is type(v) and u.dtype == v.dtype and u.shape == v.shape, key
        assert np.array_equal(u, v), key


def _same(a, b):
    """Equal values of the same types (lists item by item, NaN equal to NaN)."""
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    return type(a) is type(b) and (a == b or (a != a and b != b))


def _params_equal(a, b):
    return a.keys() == b.keys() and all(
        np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else a[k] == b[k]
        and type(a[k]) is type(b[k]) for k in a)


# ------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("kind", ROUND_TRIP_KINDS)
def test_round_trip_predicts_bitwise_and_keeps_training(kind, dtype, tmp_path):
    model, X, y = _model(kind, dtype)
    path = tmp_path / "model.fastnn"
    fastnn.save(model, path)
    assert os.listdir(tmp_path) == ["model.fastnn"]  # no extension added, no temp file left
    loaded = fastnn.load(path)

    assert type(loaded) is type(model)
    assert _params_equal(loaded.get_params(), model.get_params())
    for u, v in zip(loaded.coefs_ + loaded.intercepts_, model.coefs_ + model.intercepts_):
        assert u.dtype == v.dtype and u.flags.c_contiguous and np.array_equal(u, v)
    for name in FITTED:
        assert hasattr(loaded, name) == hasattr(model, name), name
        if hasattr(model, name):
            assert _same(getattr(loaded, name), getattr(model, name)), name
    if hasattr(model, "classes_"):
        assert _same(loaded.classes_, model.classes_)
        assert loaded.classes_ is loaded._label_binarizer.classes_
        assert vars(loaded._label_binarizer).keys() == vars(model._label_binarizer).keys()
        for key, value in vars(model._label_binarizer).items():
            assert _same(getattr(loaded._label_binarizer, key), value), key
    _assert_same_outputs(_outputs(loaded, X), _outputs(model, X))
    assert loaded.score(X, y) == model.score(X, y)

    # training goes on exactly as the saved model's would: format 2 keeps the optimizer state
    reference = pickle.loads(pickle.dumps(model))
    for est in (loaded, reference):
        if kind != "partial-fit-unseen-class":  # (warm_start needs y to have every class)
            est.set_params(warm_start=True, max_iter=2)
            _fit(est, X, y)
        if est.solver != "lbfgs" and not est.early_stopping:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.partial_fit(X, y)
    for u, v in zip(loaded.coefs_ + loaded.intercepts_, reference.coefs_ + reference.intercepts_):
        assert u.dtype == v.dtype and np.array_equal(u, v)
    assert loaded.t_ == reference.t_


def test_feature_names_from_a_dataframe_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = _clf_data()
    df = pd.DataFrame(X, columns=[f"feature {i}" for i in range(X.shape[1])])
    model = _fit(fastnn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0),
                 df, y)
    fastnn.save(model, tmp_path / "m.npz")
    loaded = fastnn.load(tmp_path / "m.npz")
    assert loaded.feature_names_in_.dtype == object
    assert np.array_equal(loaded.feature_names_in_, model.feature_names_in_)
    assert np.array_equal(loaded.predict_proba(df), model.predict_proba(df))
    with pytest.raises(ValueError, match="feature names"):  # still checked against them
        loaded.predict(df.rename(columns={"feature 0": "other"}))


def test_random_state_instance_is_saved_with_its_state(tmp_path):
    X, y = _clf_data()
    model = _fit(fastnn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=3,
                                      random_state=np.random.RandomState(0)), X, y)
    fastnn.save(model, tmp_path / "m.npz")
    loaded = fastnn.load(tmp_path / "m.npz")
    assert isinstance(loaded.random_state, np.random.RandomState)
    assert loaded.random_state is not model.random_state
    assert loaded.random_state.randint(2**31, size=5).tolist() == (
        model.random_state.randint(2**31, size=5).tolist())  # the same next draws
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    # other bit generators than MT19937 and PCG64 are refused, not dropped
    model.set_params(random_state=np.random.RandomState(np.random.Philox(0)))
    with pytest.raises(ValueError, match="cannot save a RandomState over Philox"):
        fastnn.save(model, tmp_path / "p.npz")


def test_save_refuses_what_it_cannot_write(tmp_path):
    X, y = _clf_data()
    with pytest.raises(NotFittedError):
        fastnn.save(fastnn.MLPClassifier(), tmp_path / "a")
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    with pytest.raises(TypeError, match="fastnn MLPClassifier or MLPRegressor"):
        fastnn.save(_fit(SkMLPClassifier(max_iter=2), X, y), tmp_path / "b")
    model = _fit(fastnn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=3), X, y)
    broken = pickle.loads(pickle.dumps(model))
    broken.coefs_[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="cannot save this model: layer 0's weights are not "
                                         "all finite"):
        fastnn.save(broken, tmp_path / "c")
    odd = pickle.loads(pickle.dumps(model)).set_params(tol=object())
    with pytest.raises(ValueError, match="cannot save parameter tol="):
        fastnn.save(odd, tmp_path / "d")
    assert os.listdir(tmp_path) == []  # nothing written, no temp file left


def test_file_holds_no_pickle(tmp_path):
    model, _, _ = _model("string-labels")
    path = tmp_path / "m.npz"
    fastnn.save(model, path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert all(n.endswith(".npy") for n in names)
        assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(n[:-4] for n in names)
        for key in data.files:
            value = data[key]  # raises if the entry needed unpickling
            assert value.dtype.kind in "biufU" and not value.dtype.hasobject, key
        metadata = json.loads(data["metadata"].tobytes().decode("utf-8"))
    assert metadata["format"] == "fastnn-mlp" and metadata["version"] == 2
    assert metadata["estimator"] == "MLPClassifier"
    assert metadata["fitted"]["label_binarizer"]["y_type_"] == "multiclass"


def test_save_does_not_depend_on_numpys_savez_keywords(tmp_path, monkeypatch):
    """numpy < 2.1's np.savez took every keyword as an array to store, so
    ``np.savez(f, allow_pickle=False, ...)`` wrote an entry named allow_pickle that load
    rejects. save writes its archive itself: the same file whatever np.savez does."""

    model, X, _ = _model("binary")
    path = tmp_path / "m.npz"
    fastnn.save(model, path)
    expected = _entries(path)

    def old_savez(file, *args, **kwds):  # every keyword an array, as before numpy 2.1
        arrays = {k: np.asanyarray(v) for k, v in kwds.items()}
        with zipfile.ZipFile(file, mode="w") as archive:
            for name, value in arrays.items():
                with archive.open(name + ".npy", mode="w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, value)

    monkeypatch.setattr(np, "savez", old_savez)
    fastnn.save(model, path)
    metadata, arrays = _entries(path)
    assert metadata == expected[0]
    assert sorted(arrays) == sorted(expected[1])
    for name, value in arrays.items():
        np.testing.assert_array_equal(value, expected[1][name])
    with zipfile.ZipFile(path) as archive:
        assert "allow_pickle.npy" not in archive.namelist()
    np.testing.assert_array_equal(fastnn.load(path).predict_proba(X), model.predict_proba(X))


# ------------------------------------------------------------------- tampered files
def _entries(path):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    metadata = json.loads(arrays.pop("metadata").tobytes().decode("utf-8"))
    return metadata, arrays


def _write(path, metadata, arrays, raw_metadata=None):
    blob = raw_metadata if raw_metadata is not None else json.dumps(metadata).encode("utf-8")
    with open(path, "wb") as f:
        np.savez(f, metadata=np.frombuffer(blob, dtype=np.uint8), **arrays)


def _set(*keys_value):
    *keys, value = keys_value

    def mutate(m, a):
        target = m
        for k in keys[:-1]:
            target = target[k]
        if value is _DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return mutate


_DELETE = object()


def _array(name, fn):
    def mutate(m, a):
        a[name] = fn(a[name])
    return mutate


def _drop(name):
    def mutate(m, a):
        del a[name]
    return mutate


def _rename(old, new):
    def mutate(m, a):
        a[new] = a.pop(old)
    return mutate


def _add(name, value):
    def mutate(m, a):
        a[name] = value
    return mutate


# rule -> (model kind, mutation of (metadata, arrays), expected message part)
TAMPERED = {
    "format-name": ("multiclass", _set("format", "other"), "format is 'other'"),
    "format-missing": ("multiclass", _set("format", _DELETE), "format is None"),
    "format-version-3": ("multiclass", _set("version", 3), "format version 3"),
    "format-version-str": ("multiclass", _set("version", "1"), "format version '1'"),
    "format-version-bool": ("multiclass", _set("version", True), "format version True"),
    "estimator-foreign": ("multiclass", _set("estimator", "SVC"), "estimator 'SVC'"),
    "estimator-list": ("multiclass", _set("estimator", ["MLPClassifier"]), "estimator ["),
    "estimator-swapped": ("regressor-1", _set("estimator", "MLPClassifier"),
                          "unknown parameters ['huber_delta', 'quantile'] for MLPClassifier"),
    "params-unknown": ("multiclass", _set("params", "C", 1.0), "unknown parameters ['C']"),
    "params-invalid-alpha": ("multiclass", _set("params", "alpha", -1.0),
                             "The 'alpha' parameter"),
    "params-invalid-activation": ("multiclass", _set("params", "activation", "bogus"),
                                  "The 'activation' parameter"),
    "params-wrong-type": ("multiclass", _set("params", "max_iter", "200"),
                          "The 'max_iter' parameter"),
    "params-nan": ("multiclass", _set("params", "tol", {"__float__": "nan"}),
                   "The 'tol' parameter"),
    "params-bad-tag": ("multiclass", _set("params", "tol", {"__pickle__": "x"}),
                       "unreadable value"),
    "params-dropout-length": ("dropout", _set("params", "dropout", [0.1, 0.1, 0.1]),
                              "one rate per hidden layer"),
    "params-hidden-mismatch": ("multiclass", _set("params", "hidden_layer_sizes",
                                                  {"__tuple__": [8]}),
                               "widths [7] but hidden_layer_sizes is (8,)"),
    "params-not-object": ("multiclass", _set("params", [1, 2]), "params is not a JSON object"),
    "weights-int": ("multiclass", _array("coefs_0", lambda c: c.astype(np.int64)),
                    "dtype int64"),
    "weights-float16": ("multiclass", _array("intercepts_1", lambda c: c.astype(np.float16)),
                        "dtype float64 / float16"),
    "weights-mixed-dtypes": ("multiclass", _array("coefs_1", lambda c: c.astype(np.float32)),
                             "one dtype for all"),
    "weights-unicode": ("multiclass", _array("coefs_0", lambda c: c.astype(str)), "dtype <U"),
    "coefs-1d": ("multiclass", _array("coefs_0", np.ravel), "not a non-empty 2-D array"),
    "coefs-3d": ("multiclass", _array("coefs_0", lambda c: c[None]), "3 dimensions"),
    "coefs-chain": ("multiclass", _array("coefs_1", lambda c: np.vstack([c, c[:1]])),
                    "coefs_[1] has 8 rows but coefs_[0] has 7 columns"),
    "intercepts-length": ("multiclass", _array("intercepts_0", lambda b: b[:-1]),
                          "intercepts_[0] has shape (6,), expected (7,)"),
    "intercepts-2d": ("multiclass", _array("intercepts_0", lambda b: b[None]),
                      "intercepts_[0] has shape (1, 7)"),
    "n_features_in_": ("multiclass", _set("fitted", "n_features_in_", 5),
                       "n_features_in_ is 5 but coefs_[0] has 6 rows"),
    "n_features_in_-str": ("multiclass", _set("fitted", "n_features_in_", "6"),
                           "n_features_in_ must be a int"),
    "n_features_in_-bool": ("multiclass", _set("fitted", "n_features_in_", True),
                            "n_features_in_ must be a int"),
    "n_outputs_": ("multiclass", _set("fitted", "n_outputs_", 2),
                   "n_outputs_ is 2 but coefs_[-1] has 3 columns"),
    "n_layers_": ("multiclass", _set("fitted", "n_layers_", 4), "n_layers_ is 4"),
    "n_layers_-huge": ("multiclass", _set("fitted", "n_layers_", 10**12), "n_layers_ is"),
    "coefs-missing": ("multiclass", _drop("coefs_1"), "coefs_ or intercepts_ is missing"),
    "coefs-renamed": ("multiclass", _rename("coefs_1", "coefs_7"),
                      "coefs_ or intercepts_ is missing"),
    "entry-extra": ("multiclass", _add("payload", np.zeros(3)), "unexpected entries"),
    "out_activation_-unknown": ("multiclass", _set("fitted", "out_activation_", "relu"),
                                "out_activation_ 'relu' is unknown"),
    "out_activation_-binary-softmax": ("binary", _set("fitted", "out_activation_", "softmax"),
                                       "has 'logistic'"),
    "out_activation_-classifier-identity": ("multiclass",
                                            _set("fitted", "out_activation_", "identity"),
                                            "has 'softmax'"),
    "out_activation_-regressor-logistic": ("regressor-1",
                                           _set("fitted", "out_activation_", "logistic"),
                                           "has 'identity'"),
    "classes-missing": ("multiclass", _drop("classes_"), "a classifier needs classes_"),
    "classes-too-few": ("multiclass", _array("classes_", lambda c: c[:2]),
                        "with 2 classes_ and 3 outputs"),
    "classes-too-many": ("binary", _array("classes_", lambda c: np.arange(3)),
                         "with 3 classes_ and 1 outputs"),
    "classes-unsorted": ("multiclass", _array("classes_", lambda c: c[::-1]),
                         "not sorted and distinct"),
    "classes-repeated": ("multiclass", _array("classes_", lambda c: np.zeros_like(c)),
                         "not sorted and distinct"),
    "classes-2d": ("multiclass", _array("classes_", lambda c: c[None]), "non-empty vector"),
    "classes-nan": ("float-labels", _array("classes_", lambda c: np.r_[c[:-1], np.nan]),
                    "not all finite"),
    "classes-multilabel": ("multilabel", _array("classes_", lambda c: c + 1),
                           "do not make a 'multilabel-indicator' label binarizer"),
    "classes-on-regressor": ("regressor-1", _add("classes_", np.arange(2)),
                             "unexpected entries ['classes_']"),
    "y_type_-unknown": ("multiclass", _set("fitted", "label_binarizer", "y_type_", "continuous"),
                        "y_type_ 'continuous' is unknown"),
    "y_type_-inconsistent": ("multiclass", _set("fitted", "label_binarizer", "y_type_",
                                                "binary"), "y_type_ 'binary' with 3 classes_"),
    "label-binarizer-labels": ("multiclass", _set("fitted", "label_binarizer", "neg_label",
                                                  -1), "not MLPClassifier's"),
    "weights-nan": ("multiclass", _array("coefs_1", lambda c: np.where(c > 0, np.nan, c)),
                    "layer 1's weights are not all finite"),
    "weights-inf": ("regressor-1", _array("intercepts_0", lambda b: b + np.inf),
                    "layer 0's weights are not all finite"),
    "n_iter_-negative": ("multiclass", _set("fitted", "n_iter_", -1), "n_iter_ must be >= 0"),
    "t_-float": ("multiclass", _set("fitted", "t_", 1.5), "t_ must be a int"),
    "loss_curve_-int": ("multiclass", _array("loss_curve_", lambda c: c.astype(np.int64)),
                        "loss_curve_ is not a float64 vector"),
    "loss_curve_-missing": ("multiclass", _drop("loss_curve_"),
                            "loss_curve_ and its type do not match"),
    "best_loss_-string": ("multiclass", _set("fitted", "best_loss_", "low"),
                          "best_loss_ is malformed"),
    "none-unknown": ("multiclass", _set("fitted", "none", ["coefs_"]), "none lists"),
    "feature-names-length": ("multiclass", _set("fitted", "feature_names_in_", ["a", "b"]),
                             "feature_names_in_ is not 6 distinct strings"),
    "feature-names-not-str": ("multiclass", _set("fitted", "feature_names_in_", list(range(6))),
                              "feature_names_in_ is not 6 distinct strings"),
    "fitted-missing": ("multiclass", _set("fitted", _DELETE), "fitted is not a JSON object"),
}


@pytest.mark.parametrize("rule", list(TAMPERED))
def test_tampered_file_raises_value_error(rule, tmp_path):
    kind, mutate, message = TAMPERED[rule]
    model, _, _ = _model(kind)
    path = tmp_path / "m.npz"
    fastnn.save(model, path)
    fastnn.load(path)  # valid before
    metadata, arrays = _entries(path)
    mutate(metadata, arrays)
    _write(path, metadata, arrays)
    with pytest.raises(ValueError) as info:
        fastnn.load(path)
    assert str(info.value).startswith(f"{path} is not a valid fastnn model file: ")
    assert message in str(info.value), str(info.value)


_MARKER = "fastnn-test-unpickled"


class _Payload:
    """Unpickling this writes a marker file: proof that load ran code from the file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("where", ["metadata", "coefs_0", "classes_", "extra"])
def test_pickled_entry_is_rejected_unread(where, tmp_path):
    model, _, _ = _model("multiclass")
    path = tmp_path / "m.npz"
    fastnn.save(model, path)
    metadata, arrays = _entries(path)
    marker = tmp_path / _MARKER
    payload = np.array([_Payload(str(marker))], dtype=object)
    arrays["metadata"] = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    arrays[where] = payload
    with open(path, "wb") as f:
        np.savez(f, **arrays)  # allow_pickle=True: the object array is pickled
    with pytest.raises(ValueError, match="is not a valid fastnn model file: entry"):
        fastnn.load(path)
    assert not marker.exists()


FOREIGN = {
    "empty": lambda blob: b"",
    "text": lambda blob: b"hello, world\n" * 10,
    "random": lambda blob: np.random.RandomState(0).bytes(len(blob)),
    "npy": lambda blob: _npy_bytes(np.arange(10.0)),
    "pickle": lambda blob: pickle.dumps({"coefs_": [np.zeros(3)]}),
    "truncated-half": lambda blob: blob[: len(blob) // 2],
    "truncated-tail": lambda blob: blob[:-1],
    "zip-text-entry": lambda blob: _zip({"readme.txt": b"hi"}),
    "zip-other-arrays": lambda blob: _npz(x=np.zeros(3), y=np.ones(2)),
    "zip-metadata-not-json": lambda blob: _npz(metadata=np.frombuffer(b"{not json",
                                                                      dtype=np.uint8)),
    "zip-metadata-not-utf8": lambda blob: _npz(metadata=np.frombuffer(b"\xff\xfe{}",
                                                                      dtype=np.uint8)),
    "zip-metadata-float": lambda blob: _npz(metadata=np.zeros(4)),
    "zip-metadata-list": lambda blob: _npz(metadata=np.frombuffer(b"[1, 2]", dtype=np.uint8)),
    "zip-metadata-nan": lambda blob: _npz(metadata=np.frombuffer(
        b'{"format": NaN}', dtype=np.uint8)),
    "zip-metadata-deep": lambda blob: _npz(metadata=np.frombuffer(
        b"[" * 100_000 + b"]" * 100_000, dtype=np.uint8)),
    "compressed": lambda blob: _recompressed(blob),
    "huge-declared-shape": lambda blob: _zip({"metadata.npy": _npy_header((10**12,))}),
    "negative-declared-shape": lambda blob: _zip({"metadata.npy": _npy_header((-8,))}),
    "python2-header": lambda blob: _zip({"metadata.npy": _npy_bytes(
        np.zeros(3, np.uint8)).replace(b"(3,)", b"(3L)")}),  # numpy would warn and parse it
    "header-tokenize-error": lambda blob: _zip({"metadata.npy": _npy_bytes(
        np.zeros(3, np.uint8)).replace(b"(3,)", b"(3,(")}),
    "duplicate-entry": lambda blob: _zip({"metadata.npy": _npy_bytes(np.zeros(2, np.uint8)),
                                          "metadata.npy ": b""}),
}


def _npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _npy_header(shape):
    """A .npy header declaring ``shape`` float64 values, followed by only 64 bytes."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buf.getvalue() + b"\0" * 64


def _zip(members, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _recompressed(blob):
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    return _zip(members, zipfile.ZIP_DEFLATED)


# what load's own guards say (the other cases fail in zipfile / numpy / json)
FOREIGN_MESSAGES = {
    "huge-declared-shape": "entry 'metadata.npy' is truncated",  # nothing allocated
    "negative-declared-shape": "entry 'metadata.npy' has shape (-8,)",
    "python2-header": "entry 'metadata.npy' has an unreadable header (UserWarning(",
    "header-tokenize-error": "entry 'metadata.npy' has an unreadable header (TokenError(",
    "compressed": "is compressed or oversized",
    "duplicate-entry": "unexpected entry 'metadata.npy '",
    "zip-other-arrays": "no metadata entry",
    "zip-metadata-float": "the metadata entry is not a uint8 vector",
    "zip-metadata-not-json": "unreadable metadata",
    "zip-metadata-not-utf8": "unreadable metadata",
    "zip-metadata-deep": "unreadable metadata",
    "zip-metadata-nan": "metadata holds NaN",
    "zip-metadata-list": "metadata is not a JSON object",
    "zip-text-entry": "unexpected entry 'readme.txt'",
}


@pytest.mark.parametrize("kind", list(FOREIGN))
def test_foreign_corrupt_or_truncated_file_raises_value_error(kind, tmp_path):
    model, _, _ = _model("binary")
    path = tmp_path / "m.npz"
    fastnn.save(model, path)
    path.write_bytes(FOREIGN[kind](path.read_bytes()))
    with pytest.raises(ValueError, match="is not a valid fastnn model file: ") as info:
        fastnn.load(path)
    assert FOREIGN_MESSAGES.get(kind, "") in str(info.value)


def test_missing_file_or_directory_raises_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        fastnn.load(tmp_path / "absent.npz")
    with pytest.raises(IsADirectoryError):
        fastnn.load(tmp_path)


# ------------------------------------------------------------------------------- fuzz
def _flip(data, rng):
    """``data`` with 1-8 random bytes each changed to a different value."""
    data = bytearray(data)
    for pos in rng.randint(0, len(data), size=rng.randint(1, 9)):
        data[pos] = (data[pos] + rng.randint(1, 256)) % 256
    return bytes(data)


def _flip_member(blob, rng):
    """``blob`` re-zipped with 1-8 bytes of one entry changed and its CRC recomputed: what
    the .npy and JSON readers and the checks see past the zip layer's CRC."""
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    name = sorted(members)[rng.randint(len(members))]
    members[name] = _flip(members[name], rng)
    return _zip(members)


def _fuzz(blob, X, reference, seed, n, path):
    """Load ``n`` corrupted copies of ``blob``, a third each: 1-8 random bytes of the file
    changed, the file truncated, 1-8 bytes of one entry changed under a valid CRC. Returns
    outcome counts per corruption, and the failures: any exception but ValueError, or a
    loaded model that cannot predict. Where the file's bytes were corrupted (the CRC guards
    every entry) a loaded model must predict exactly what the original predicts."""
    import fastnn as fn

    rng = np.random.RandomState(seed)
    counts = {mode: {"loaded": 0, "ValueError": 0}
              for mode in ("flip", "truncate", "flip-entry")}
    failures = []
    for i in range(n):
        mode = ("flip", "truncate", "flip-entry")[i % 3]
        if mode == "flip":
            data = _flip(blob, rng)
        elif mode == "truncate":
            data = blob[: rng.randint(0, len(blob))]
        else:
            data = _flip_member(blob, rng)
        with open(path, "wb") as f:
            f.write(data)
        try:
            model = fn.load(path)
            proba = model.predict_proba(X)
        except ValueError:
            counts[mode]["ValueError"] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - anything else fails the test
            failures.append((i, mode, type(exc).__name__, str(exc)[:200]))
            continue
        counts[mode]["loaded"] += 1
        if proba.shape != reference.shape:
            failures.append((i, mode, "predict_proba shape", proba.shape))
        elif mode != "flip-entry" and not np.array_equal(proba, reference):
            failures.append((i, mode, "predictions changed", None))
    return counts, failures


def _fuzz_setup(tmp_path):
    X, y = _clf_data()
    model = _fit(fastnn.MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0),
                 X, y)
    fastnn.save(model, tmp_path / "m.npz")
    return (tmp_path / "m.npz").read_bytes(), X, model.predict_proba(X)


FUZZ_ITERATIONS = 1200


def test_fuzzed_files_load_or_raise_value_error(tmp_path, request):
    blob, X, reference = _fuzz_setup(tmp_path)
    counts, failures = _fuzz(blob, X, reference, 0, FUZZ_ITERATIONS, tmp_path / "fuzz.npz")
    request.node.user_properties.append(("fuzz_counts", json.dumps(counts)))
    assert failures == []
    assert sum(sum(c.values()) for c in counts.values()) == FUZZ_ITERATIONS
    for mode, c in counts.items():  # the corruption is mostly caught
        assert c["ValueError"] > c["loaded"], (mode, c)


_FUZZ_CHILD = textwrap.dedent(
    """
    import json, os, pathlib, sys
    sys.path[:0] = [sys.argv[1], os.path.dirname(sys.argv[1])]  # this file, tests' helpers
    from test_safe_persistence import _fuzz, _fuzz_setup
    tmp = pathlib.Path(sys.argv[2])
    blob, X, reference = _fuzz_setup(tmp)
    counts, failures = _fuzz(blob, X, reference, int(sys.argv[3]), int(sys.argv[4]),
                             tmp / "fuzz.npz")
    json.dump({"counts": counts, "failures": failures}, sys.stdout)
    """
)


@pytest.mark.slow
@pytest.mark.subprocess
def test_fuzzed_files_in_a_child_process(tmp_path, request):
    child = subprocess.run(
        [sys.executable, "-c", _FUZZ_CHILD, os.path.dirname(__file__), str(tmp_path), "1",
         "200"],
        capture_output=True, text=True, timeout=120,
    )
    assert child.returncode == 0, child.stderr[-2000:]  # a crash would be a signal here
    result = json.loads(child.stdout)
    request.node.user_properties.append(("fuzz_child_counts", json.dumps(result["counts"])))
    assert result["failures"] == []
    assert sum(sum(c.values()) for c in result["counts"].values()) == 200
