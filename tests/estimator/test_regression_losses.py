"""MLPRegressor(loss='absolute_error' | 'huber' | 'quantile'): their effect on real fits
(robustness to outliers, quantile coverage on held-out heteroscedastic data), every solver,
persistence, conversion and bad parameters."""

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error

import fastnn
from fastnn import MLPRegressor

from _util import fit_quiet


def _heteroscedastic(n, rng):
    X = rng.uniform(0, 4, (n, 1))
    return X, 2 * np.sin(X[:, 0]) + rng.normal(0, 1, n) * (0.2 + 0.5 * X[:, 0])


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_a_quantile_model_covers_its_quantile_on_held_out_data(q):
    rng = np.random.default_rng(0)
    X, y = _heteroscedastic(3000, rng)
    X_test, y_test = _heteroscedastic(4000, rng)
    model = fit_quiet(MLPRegressor(loss="quantile", quantile=q, hidden_layer_sizes=(32, 32),
                                   learning_rate_init=0.01, lr_schedule="cosine", max_iter=120,
                                   n_iter_no_change=np.inf, random_state=0), X, y)
    coverage = np.mean(y_test <= model.predict(X_test))
    assert abs(coverage - q) <= 0.02, coverage


def test_huber_and_absolute_error_resist_outliers():
    # y = a linear function plus small noise, 10% of the training targets shifted by +30:
    # squared error follows the outliers; huber and absolute error keep to the clean function.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    w = rng.normal(size=5)
    y = X @ w + rng.normal(0, 0.1, 2000)
    y_dirty = y.copy()
    y_dirty[rng.choice(2000, 200, replace=False)] += 30
    X_test = rng.normal(size=(2000, 5))
    errors = {}
    for loss in ("squared_error", "huber", "absolute_error"):
        model = fit_quiet(MLPRegressor(loss=loss, hidden_layer_sizes=(16,), max_iter=80,
                                       learning_rate_init=0.01, random_state=0), X, y_dirty)
        errors[loss] = mean_squared_error(X_test @ w, model.predict(X_test))
    assert errors["huber"] < errors["squared_error"] / 10, errors
    assert errors["absolute_error"] < errors["squared_error"] / 10, errors


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile"])
def test_every_solver_trains_the_new_losses(loss, solver):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] ** 2])  # two outputs
    model = MLPRegressor(loss=loss, huber_delta=0.5, quantile=0.3, solver=solver,
                         hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    model = fit_quiet(model, X.astype(np.float32), Y)
    assert model.out_activation_ == "identity" and model.predict(X).shape == (300, 2)
    assert model.coefs_[0].dtype == (np.float64 if solver == "lbfgs" else np.float32)
    if solver != "lbfgs":
        assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_the_validation_loss_is_the_models_loss():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3))
    y = X[:, 0] + rng.standard_cauchy(400) * 0.1
    model = fit_quiet(MLPRegressor(loss="huber", huber_delta=0.3, hidden_layer_sizes=(8,),
                                   early_stopping=True, scoring="loss", max_iter=5,
                                   n_iter_no_change=100, random_state=0),
                      X[:300], y[:300], X_val=X[300:], y_val=y[300:])
    r = np.abs(model.predict(X[300:]) - y[300:])
    huber = np.where(r <= 0.3, 0.5 * r**2, 0.3 * (r - 0.15)).mean()
    assert -model.best_validation_score_ == pytest.approx(huber, rel=1e-12)


def test_saved_loaded_and_refused_by_to_sklearn(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 3))
    y = X.sum(axis=1)
    model = fit_quiet(MLPRegressor(loss="quantile", quantile=0.8, hidden_layer_sizes=(4,),
                                   max_iter=5, random_state=0), X, y)
    fastnn.save(model, tmp_path / "q.fastnn")
    loaded = fastnn.load(tmp_path / "q.fastnn")
    assert (loaded.loss, loaded.quantile) == ("quantile", 0.8)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(ValueError, match="loss 'absolute_error', 'huber' or 'quantile'"):
        model.to_sklearn()
    plain = fit_quiet(MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0), X, y)
    assert "huber_delta" not in plain.to_sklearn().get_params()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(loss="hinge"), "The 'loss' parameter of MLPRegressor must be"),
        (dict(loss="huber", huber_delta=0.0), "The 'huber_delta' parameter of MLPRegressor"),
        (dict(loss="quantile", quantile=1.0), "The 'quantile' parameter of MLPRegressor"),
        (dict(loss="quantile", quantile=-0.5), "The 'quantile' parameter of MLPRegressor"),
    ],
)
def test_bad_loss_parameters_are_clear_errors(params, match):
    with pytest.raises(ValueError, match=match):
        MLPRegressor(**params).fit(np.ones((10, 2)), np.arange(10.0))
