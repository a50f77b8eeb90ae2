"""ONNX export through scikit-learn: skl2onnx.to_onnx(model.to_sklearn(), ...) runs in
onnxruntime and predicts what fastnn predicts."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

import fastnn

from _util import fit_quiet

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

DTYPES = [np.float64, np.float32]
# onnxruntime computes in float32 here (float32 input): fastnn vs ONNX probabilities.
F32_TOL = dict(rtol=1e-5, atol=1e-5)


def _session(onx):
    options = ort.SessionOptions()
    options.log_severity_level = 3  # no shape-merge warnings on stderr (multilabel labels)
    return ort.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def _run(onx, X):
    sess = _session(onx)
    return sess.run(None, {sess.get_inputs()[0].name: X})


def _clf_data(kind, dtype):
    n_classes = 2 if kind == "binary" else 4
    X, y = make_classification(
        n_samples=150, n_features=12, n_informative=8, n_classes=n_classes, random_state=0
    )
    if kind == "multilabel":
        y = np.stack([y == 0, y == 1, X[:, 0] > 0], axis=1).astype(int)
    return X.astype(dtype), y


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_classifier_onnx_matches_fastnn(kind, activation, dtype):
    X, y = _clf_data(kind, dtype)
    model = fit_quiet(
        fastnn.MLPClassifier(hidden_layer_sizes=(16, 8), activation=activation, max_iter=30,
                             random_state=0),
        X, y,
    )
    sk = model.to_sklearn()
    onx = skl2onnx.to_onnx(
        sk, X[:1].astype(np.float32), options={id(sk): {"zipmap": False}}
    )
    labels, proba = _run(onx, X.astype(np.float32))

    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba, model.predict_proba(X), **F32_TOL)
    assert np.array_equal(labels, model.predict(X))


def test_classifier_string_labels():
    X, y = _clf_data("multiclass", np.float32)
    y = np.array(["ant", "bee", "cat", "dog"])[y]
    model = fit_quiet(
        fastnn.MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0), X, y
    )
    sk = model.to_sklearn()
    onx = skl2onnx.to_onnx(sk, X[:1], options={id(sk): {"zipmap": False}})
    labels, proba = _run(onx, X)
    np.testing.assert_allclose(proba, model.predict_proba(X), **F32_TOL)
    assert np.array_equal(labels, model.predict(X))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_onnx_matches_fastnn(n_targets, dtype):
    X, y = make_regression(
        n_samples=150, n_features=12, n_targets=n_targets, noise=0.1, random_state=0
    )
    X = X.astype(dtype)
    model = fit_quiet(
        fastnn.MLPRegressor(hidden_layer_sizes=(16, 8), max_iter=30, random_state=0),
        X, y / np.abs(y).max(),
    )
    onx = skl2onnx.to_onnx(model.to_sklearn(), X[:1].astype(np.float32))
    (pred,) = _run(onx, X.astype(np.float32))
    # skl2onnx (1.20) reshapes every MLPRegressor output to (-1, 1): with several targets the
    # (n_samples, n_targets) predictions come out flattened in row-major order.
    assert pred.size == X.shape[0] * n_targets
    expected = model.predict(X)
    np.testing.assert_allclose(pred.reshape(expected.shape), expected, **F32_TOL)


def test_float64_onnx_graph_matches_fastnn():
    """With a float64 example input skl2onnx builds a double graph: then fastnn and
    onnxruntime agree to float64 rounding."""
    X, y = _clf_data("multiclass", np.float64)
    model = fit_quiet(
        fastnn.MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=30, random_state=0), X, y
    )
    sk = model.to_sklearn()
    onx = skl2onnx.to_onnx(sk, X[:1], options={id(sk): {"zipmap": False}})
    labels, proba = _run(onx, X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-10, atol=1e-13)
    assert np.array_equal(labels, model.predict(X))


# ---------------------------------------------------------- fastnn.to_onnx: every model
_TOLERANCES = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}
_CLASSIFIERS = {
    "leaky-relu": dict(activation="leaky_relu", leaky_relu_slope=0.2),
    "residual-tanh": dict(activation="tanh", residual=True, hidden_layer_sizes=(8, 8)),
    "quadratic": dict(loss="squared_error", activation="logistic"),
    "relu-dropout": dict(dropout=0.2),
    "elu": dict(activation="elu"),
    "softplus-residual": dict(activation="softplus", residual=True, hidden_layer_sizes=(8, 8)),
    "silu": dict(activation="silu"),
    "gelu-dropout": dict(activation="gelu", dropout=0.2),
}
_REGRESSORS = {
    "poisson": dict(loss="poisson"),
    "huber-leaky": dict(loss="huber", activation="leaky_relu"),
    "quantile-residual": dict(loss="quantile", quantile=0.8, residual=True,
                              hidden_layer_sizes=(8, 8)),
    "absolute-identity": dict(loss="absolute_error", activation="identity"),
    "squared-logistic": dict(activation="logistic"),
    "gelu-residual": dict(activation="gelu", residual=True, hidden_layer_sizes=(8, 8)),
    "silu-huber": dict(activation="silu", loss="huber"),
    "elu-poisson": dict(activation="elu", loss="poisson"),
    "softplus": dict(activation="softplus"),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("case", sorted(_CLASSIFIERS))
def test_every_classifier_exports_with_fastnn_to_onnx(case, kind, dtype):
    X, y = _clf_data(kind, dtype)
    params = {"hidden_layer_sizes": (8,), **_CLASSIFIERS[case]}
    model = fit_quiet(fastnn.MLPClassifier(max_iter=20, random_state=0, **params), X, y)
    labels, proba = _run(fastnn.to_onnx(model, X), X)
    assert proba.dtype == dtype
    np.testing.assert_allclose(proba, model.predict_proba(X), **_TOLERANCES[dtype])
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("case", sorted(_REGRESSORS))
def test_every_regressor_exports_with_fastnn_to_onnx(case, n_outputs, dtype):
    X, y = make_regression(n_samples=120, n_features=6, n_targets=n_outputs, random_state=0)
    y = np.abs(y) / 100 if "poisson" in case else y / 100
    params = {"hidden_layer_sizes": (8,), **_REGRESSORS[case]}
    model = fit_quiet(fastnn.MLPRegressor(max_iter=20, random_state=0, **params),
                      X.astype(dtype), y)
    (out,) = _run(fastnn.to_onnx(model, X.astype(dtype)), X.astype(dtype))
    assert out.shape == (120, n_outputs) and out.dtype == dtype
    np.testing.assert_allclose(out, model.predict(X.astype(dtype)).reshape(120, -1),
                               **_TOLERANCES[dtype])


def test_string_labels_and_the_models_own_dtype():
    X, y = _clf_data("multiclass", np.float32)
    model = fit_quiet(fastnn.MLPClassifier((8,), activation="leaky_relu", max_iter=10,
                                           random_state=0), X, np.array(list("abcd"))[y])
    labels, proba = _run(fastnn.to_onnx(model), X)  # no X: the model's float32
    np.testing.assert_array_equal(labels, model.predict(X))
    with pytest.raises(ValueError, match=r"fastnn.to_onnx\(model\) exports it"):
        model.to_sklearn()


_IMPORT_ORDER = """
import sys, numpy as np
first = sys.argv[1]
if first == "skl2onnx":
    import skl2onnx
import fastnn
if first == "fastnn":
    import skl2onnx
X = np.random.RandomState(0).rand(30, 3)
model = fastnn.MLPRegressor(hidden_layer_sizes=(4,), activation="leaky_relu", max_iter=5,
                            random_state=0).fit(X, X.sum(axis=1))
onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32))
print(sorted({n.op_type for n in onx.graph.node}))
"""


@pytest.mark.subprocess
@pytest.mark.parametrize("first", ["fastnn", "skl2onnx"])
def test_skl2onnx_knows_fastnn_models_whichever_is_imported_first(first):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _IMPORT_ORDER, first], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Where" in result.stdout and "MatMul" in result.stdout
