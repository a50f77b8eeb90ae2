"""partial_fit(..., epochs=k): k epochs in one core call, the same model as k calls of one epoch
(scikit-learn's partial_fit semantics kept epoch by epoch: the rule's decisions, a stop that ends
only its own call, each epoch's shuffle of 0..n-1)."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits, make_regression

from fastnn import MLPClassifier, MLPRegressor
from fastnn._optimizers import AdamOptimizer, SGDOptimizer

from _util import assert_same_training


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def _generator(kind):
    # MT19937: the core draws the shuffles; PCG64: Python does, epoch by epoch
    return np.random.RandomState(0 if kind == "mt19937" else np.random.PCG64(0))


@pytest.mark.parametrize("generator", ["mt19937", "pcg64"])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        # adaptive: the rate is divided by 5 between epochs; a stop decision (the rate at its
        # floor) ends only its own epoch, as in k separate calls
        dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=1, tol=0.5),
        dict(solver="sgd", learning_rate="invscaling", momentum=0.5, nesterovs_momentum=False),
    ],
)
def test_epochs_is_k_calls_of_one_epoch(params, shuffle, generator):
    X, y = _digits()
    one_by_one = MLPClassifier((16,), shuffle=shuffle, random_state=_generator(generator), **params)
    at_once = MLPClassifier((16,), shuffle=shuffle, random_state=_generator(generator), **params)
    for _ in range(7):
        one_by_one.partial_fit(X, y, classes=np.arange(10))
    at_once.partial_fit(X, y, classes=np.arange(10), epochs=7)
    assert_same_training(one_by_one, at_once)
    assert at_once.n_iter_ == 7 and len(at_once.loss_curve_) == 7
    at_once.partial_fit(X, y, epochs=3)  # and on from there
    for _ in range(3):
        one_by_one.partial_fit(X, y)
    assert_same_training(one_by_one, at_once)


def test_regressor_epochs_and_verbose_one_epoch_a_call(capsys):
    X, y = make_regression(300, 6, noise=1.0, random_state=0)
    y = y / 100
    quiet = MLPRegressor(hidden_layer_sizes=(8,), random_state=np.random.RandomState(1))
    loud = MLPRegressor(hidden_layer_sizes=(8,), random_state=np.random.RandomState(1),
                        verbose=True)
    quiet.partial_fit(X, y, epochs=4)
    loud.partial_fit(X, y, epochs=4)  # verbose: Python prints between the core's epochs
    assert_same_training(quiet, loud)
    out = capsys.readouterr().out
    assert [line.split(",")[0] for line in out.splitlines()] == [
        "Iteration %d" % k for k in range(1, 5)]


@pytest.mark.parametrize("optimizer, solver", [(AdamOptimizer, "adam"), (SGDOptimizer, "sgd")])
def test_epochs_run_in_one_core_call(monkeypatch, optimizer, solver):
    calls = []
    run_epochs = optimizer.run_epochs

    def counted(self, *args):
        calls.append(len(args[-2]))  # the loss buffer: the epochs the call may run
        return run_epochs(self, *args)

    monkeypatch.setattr(optimizer, "run_epochs", counted)
    X, y = _digits()
    MLPClassifier((8,), solver=solver, random_state=0).partial_fit(
        X, y, classes=np.arange(10), epochs=25)
    assert calls == [25]


def test_more_epochs_per_block_learn_more_per_pass_over_the_blocks():
    # dask-ml's Incremental calls partial_fit once per block: epochs=k makes each call count.
    X, y = load_digits(return_X_y=True)
    X = X / 16
    X_test, y_test = X[1500:], y[1500:]
    scores = {}
    for epochs in (1, 10):
        model = MLPClassifier((32,), random_state=0)
        for start in range(0, 1500, 300):
            model.partial_fit(X[start:start + 300], y[start:start + 300],
                              classes=np.arange(10), epochs=epochs)
        scores[epochs] = model.score(X_test, y_test)
    assert scores[10] > scores[1] + 0.2, scores


@pytest.mark.parametrize(
    "epochs, error, match",
    [
        (0, ValueError, "epochs == 0, must be >= 1"),
        (2.5, TypeError, "epochs must be an instance of int"),
        ("3", TypeError, "epochs must be an instance of int"),
    ],
)
def test_bad_epochs_are_clear_errors_and_change_nothing(epochs, error, match):
    X, y = _digits()
    model = MLPClassifier((8,), random_state=0)
    with pytest.raises(error, match=match):
        model.partial_fit(X, y, classes=np.arange(10), epochs=epochs)
    assert not hasattr(model, "classes_")  # checked before anything else
    with pytest.raises(ValueError, match="epochs needs a stochastic solver "
                       "\\('sgd', 'adam', 'adamw', 'rmsprop', 'rprop'\\), got 'lbfgs'"):
        MLPRegressor(solver="lbfgs").partial_fit(X, y.astype(float), epochs=2)


def test_epochs_is_not_routed_as_metadata():
    with sklearn.config_context(enable_metadata_routing=True):
        requests = MLPClassifier().set_partial_fit_request(classes=True).get_metadata_routing()
        assert set(requests.partial_fit.requests) == {"sample_weight", "classes"}
        with pytest.raises(TypeError, match="Unexpected args: {'epochs'} in partial_fit"):
            MLPClassifier().set_partial_fit_request(epochs=True)
