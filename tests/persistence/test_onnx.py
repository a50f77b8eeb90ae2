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
