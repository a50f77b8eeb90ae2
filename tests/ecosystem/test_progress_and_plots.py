"""Progress and plots: scikit-learn's callback API (sklearn.callback: set_callbacks,
ProgressBar, ScoringMonitor) drives fastnn's fits, and fastnn.plot_loss_curve draws a fit."""

import pickle
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import fastnn

from _util import fit_quiet, partial_fit_quiet

callback_api = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")

SMALL = dict(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)


def _data(kind, n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 8))
    if kind == "clf":
        return X, np.argmax(X[:, :3] + 0.3 * rng.normal(size=(n, 3)), axis=1)
    return X, X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=n)


def _est(kind, **params):
    Est = fastnn.MLPClassifier if kind == "clf" else fastnn.MLPRegressor
    return Est(**{**SMALL, **params})


def _same_model(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.coefs_ + a.intercepts_,
                                                   b.coefs_ + b.intercepts_))


class Recorder:
    """A FitCallback that records its hooks (task names and the model's n_iter_ at task end)."""

    def __init__(self, stop_after=None):
        self.events = []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        self.events.append(("setup", context.task_name))

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        n_iter = None if fitted_estimator is None else fitted_estimator.n_iter_
        self.events.append(("end", context.task_name, n_iter))
        return self.stop_after is not None and n_iter == self.stop_after

    def teardown(self, estimator, context):
        self.events.append(("teardown", context.task_name))


# ------------------------------------------------------------------------------ callbacks
@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_scoring_monitor_scores_every_epoch_and_changes_nothing(kind, solver):
    X, y = _data(kind)
    # scoring=None (the estimator's score) fails inside scikit-learn 1.9.1's ScoringMonitor for
    # every estimator (it expects a dict of scores): name the estimator's own metric
    monitor = callback_api.ScoringMonitor(scoring="accuracy" if kind == "clf" else "r2")
    watched = fit_quiet(_est(kind, solver=solver, max_iter=4).set_callbacks(monitor), X, y)
    plain = fit_quiet(_est(kind, solver=solver, max_iter=4), X, y)
    assert _same_model(watched, plain)
    rows = monitor.get_logs().data
    metric = "accuracy" if kind == "clf" else "r2"
    epochs = [r for r in rows if r["task_name"] == "epoch"]
    assert [r["task_id_path"] for r in epochs] == [(0, i) for i in range(4)]
    for i, row in enumerate(epochs, start=1):
        # the epoch's fitted_estimator is the model after i epochs: a fit with max_iter=i
        after_i = fit_quiet(_est(kind, solver=solver, max_iter=i), X, y)
        assert row[metric] == after_i.score(X, y)
    (root,) = [r for r in rows if r["task_name"] == "fit"]
    assert root[metric] == plain.score(X, y)


def test_scoring_monitor_with_lbfgs_scores_every_iteration():
    X, y = _data("clf")
    monitor = callback_api.ScoringMonitor(scoring="accuracy")
    model = fit_quiet(_est("clf", solver="lbfgs", max_iter=15).set_callbacks(monitor), X, y)
    assert _same_model(model, fit_quiet(_est("clf", solver="lbfgs", max_iter=15), X, y))
    iterations = [r for r in monitor.get_logs().data if r["task_name"] == "lbfgs-iter"]
    # scipy calls back once per iteration; the last task, begun after the last call, is empty
    # and scores nothing (as in scikit-learn's LogisticRegression)
    assert len(iterations) == model.n_iter_
    assert all(0 <= r["accuracy"] <= 1 for r in iterations)


def test_every_partial_fit_call_is_a_scored_run():
    X, y = _data("clf")
    monitor = callback_api.ScoringMonitor(scoring="accuracy")
    model = _est("clf").set_callbacks(monitor)
    expected = []
    for chunk in np.array_split(np.arange(len(X)), 3):
        partial_fit_quiet(model, X[chunk], y[chunk], classes=np.unique(y))
        expected.append(model.score(X[chunk], y[chunk]))
    logs = monitor.get_logs(select="all")
    assert [log.data[0]["task_name"] for log in logs] == ["partial_fit"] * 3
    assert [log.data[0]["accuracy"] for log in logs] == expected


def test_hooks_are_called_once_per_task():
    X, y = _data("clf")
    recorder = Recorder()
    fit_quiet(_est("clf", max_iter=3).set_callbacks(recorder), X, y)
    assert recorder.events == [
        ("setup", "fit"), ("begin", "fit"),
        ("begin", "epoch"), ("end", "epoch", 1),
        ("begin", "epoch"), ("end", "epoch", 2),
        ("begin", "epoch"), ("end", "epoch", 3),
        ("end", "fit", 3), ("teardown", "fit"),
    ]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_callback_can_stop_the_fit_after_an_epoch(early_stopping):
    X, y = _data("clf")
    params = dict(max_iter=10, early_stopping=early_stopping)
    stopped = _est("clf", **params).set_callbacks(Recorder(stop_after=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop is no failure
        stopped.fit(X, y)
    assert stopped.n_iter_ == 3 and len(stopped.loss_curve_) == 3
    assert _same_model(stopped, fit_quiet(_est("clf", **{**params, "max_iter": 3}), X, y))


def test_teardown_runs_when_the_fit_fails():
    recorder = Recorder()
    X, y = _data("clf")
    with pytest.raises(ValueError):
        _est("clf").set_callbacks(recorder).fit(X[:, :0], y)
    assert recorder.events[0] == ("setup", "fit")
    assert recorder.events[-1] == ("teardown", "fit")


def test_callbacks_survive_clone_and_pickle_leaves_a_model_attached():
    from sklearn.base import clone

    X, y = _data("clf")
    recorder = Recorder()
    model = _est("clf", max_iter=2).set_callbacks(recorder)
    assert clone(model)._skl_callbacks == [recorder]  # scikit-learn's clone keeps them
    fit_quiet(model, X, y)
    # coefs_ / intercepts_ are views of the one vector the core trains: pickling (and
    # copy.copy, which the callbacks' fitted_estimator is made with) must not detach them
    vector = model.coefs_[0].base
    pickle.dumps(model)
    assert all(a.base is vector for a in model.coefs_ + model.intercepts_)


def test_progress_bar_shows_a_fit_and_a_grid_search(capsys):
    pytest.importorskip("rich")
    X, y = _data("clf")
    fit_quiet(_est("clf", max_iter=3).set_callbacks(callback_api.ProgressBar()), X, y)
    out = capsys.readouterr().out
    assert "MLPClassifier - fit" in out and "100%" in out

    search = GridSearchCV(_est("clf", max_iter=2), {"alpha": [1e-4, 1e-2]}, cv=2)
    fit_quiet(search.set_callbacks(callback_api.ProgressBar()), X, y)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out
    assert "MLPClassifier - fit" in out  # the fits below it, through the propagation


# ---------------------------------------------------------------------------------- plots
@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_loss_curve_draws_the_loss_per_epoch(plt):
    X, y = _data("reg")
    model = fit_quiet(_est("reg", max_iter=6), X, y)
    fig, ax = plt.subplots()
    assert fastnn.plot_loss_curve(model, ax=ax) is ax
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [1, 2, 3, 4, 5, 6]
    assert list(line.get_ydata()) == model.loss_curve_
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "training loss"
    assert not hasattr(ax, "right_ax") and len(fig.axes) == 1


def test_plot_loss_curve_adds_validation_scores_with_early_stopping(plt):
    X, y = _data("clf", n=400)
    model = fit_quiet(_est("clf", max_iter=8, early_stopping=True), X, y)
    ax = fastnn.plot_loss_curve(model)  # the current Axes
    assert ax is plt.gca()
    right = ax.right_ax
    assert right in ax.figure.axes and right.get_ylabel() == "validation accuracy"
    scores_line = right.get_lines()[0]
    assert list(scores_line.get_ydata()) == model.validation_scores_
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "training loss", "validation loss", "validation accuracy"]
    assert list(ax.get_lines()[1].get_ydata()) == model.validation_loss_curve_
    assert ax.get_ylabel() == "loss"
    by_loss = fit_quiet(_est("clf", max_iter=4, early_stopping=True, scoring="loss"), X, y)
    plt.figure()
    assert fastnn.plot_loss_curve(by_loss).right_ax.get_ylabel() == "validation negative loss"


def test_plot_loss_curve_refuses_models_without_a_curve(plt):
    X, y = _data("clf")
    with pytest.raises(ValueError, match="unfitted"):
        fastnn.plot_loss_curve(_est("clf"))
    with pytest.raises(ValueError, match="solver='lbfgs'"):
        fastnn.plot_loss_curve(fit_quiet(_est("clf", solver="lbfgs", max_iter=5), X, y))


def test_plot_loss_curve_without_matplotlib_says_how_to_get_it(monkeypatch):
    X, y = _data("clf")
    model = fit_quiet(_est("clf", max_iter=2), X, y)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install fastnn\[examples\]"):
        fastnn.plot_loss_curve(model)
