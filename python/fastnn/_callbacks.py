"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9) in fastnn's fits.

scikit-learn documents how a third-party estimator supports its callbacks ("Implementing
callback support in estimators"): inherit ``CallbackSupportMixin`` (which gives
``set_callbacks``), describe ``fit`` as a tree of tasks, and call the hooks at the beginning and
end of each task. fastnn's tree is the one scikit-learn's ``LogisticRegression`` uses:

- the root task: one ``fit``, or one ``partial_fit`` call (a leaf: it runs one epoch);
- below a ``fit``, one task per epoch (``sgd`` / ``adam``, ``max_iter`` at most) or per L-BFGS
  iteration (``lbfgs``: ``max_iter + 1`` at most, the last one empty, as scikit-learn's).

Every task sees the data ``fit`` was given (``X``, ``y`` as passed, ``sample_weight`` as
metadata) and, at its end, a ``fitted_estimator``: a copy of the model as it is after that epoch
or iteration, built only when a callback asks for it (``ScoringMonitor`` scores it). A callback
whose ``on_fit_task_end`` returns True stops an sgd/adam fit after that epoch (L-BFGS runs on,
as scikit-learn's ``LogisticRegression`` does: scipy's callbacks cannot stop it on every
supported scipy). Without callbacks no per-epoch task is created: an epoch costs what it did.
"""

import numpy as np

from fastnn._fitted_state import layer_views

__all__ = ["FitTasks", "LbfgsIterations"]


class FitTasks:
    """The callback tasks of one ``fit`` / ``partial_fit`` of ``estimator``.

    Creating it begins the root task (and sets the callbacks up); ``end`` ends it after a
    successful fit (``_fit_context`` tears the callbacks down, whatever happens).
    """

    def __init__(self, estimator, X, y, sample_weight, incremental):
        if estimator.solver != "lbfgs":  # epochs
            max_subtasks = 0 if incremental else estimator.max_iter
        else:
            max_subtasks = estimator.max_iter + 1
        self._estimator = estimator
        self._data = {
            "X": X,
            "y": y,
            "metadata": None if sample_weight is None else {"sample_weight": sample_weight},
        }
        self._root = estimator._init_callback_context(
            task_name="partial_fit" if incremental else "fit", max_subtasks=max_subtasks
        )
        self._root.call_on_fit_task_begin(estimator=estimator, **self._data)
        self.per_iteration = max_subtasks > 0 and bool(
            getattr(estimator, "_skl_callbacks", None)
        )

    def begin_iteration(self, task_name):
        """Begin an epoch's / iteration's task; None (nothing to do) without callbacks."""
        if not self.per_iteration:
            return None
        task = self._root.subcontext(task_name=task_name)
        task.call_on_fit_task_begin(estimator=self._estimator, **self._data)
        return task

    def end_iteration(self, task, fitted_state):
        """End ``task``; ``fitted_state()`` gives the attributes of the model as it is now.
        Returns True when a callback asks the fit to stop."""
        if task is None:
            return False
        return task.call_on_fit_task_end(
            estimator=self._estimator, reconstruction_attributes=fitted_state, **self._data
        )

    def end(self):
        """End the root task: the estimator is fitted."""
        self._root.call_on_fit_task_end(
            estimator=self._estimator, reconstruction_attributes={}, **self._data
        )


class LbfgsIterations:
    """``scipy.optimize.minimize``'s ``callback(xk)`` as iteration tasks.

    scipy calls back at the end of each L-BFGS iteration: that ends the current iteration's task
    and begins the next one. The task begun after the last call is ended, empty, by ``close``.
    """

    def __init__(self, tasks):
        est = tasks._estimator
        self._tasks = tasks
        self._shapes = (est.coefs_, est.intercepts_)
        self._n_iter = 0
        self._task = tasks.begin_iteration("lbfgs-iter")

    def __call__(self, xk):
        self._n_iter += 1
        n_iter = self._n_iter

        def state():
            coefs, intercepts = layer_views(np.array(xk), *self._shapes)
            return {"coefs_": coefs, "intercepts_": intercepts, "n_iter_": n_iter}

        self._tasks.end_iteration(self._task, state)
        self._task = self._tasks.begin_iteration("lbfgs-iter")

    def close(self):
        self._task.call_on_fit_task_end(estimator=self._tasks._estimator)
