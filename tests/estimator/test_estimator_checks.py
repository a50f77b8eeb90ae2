"""scikit-learn's own estimator checks (``parametrize_with_checks``), with no expected failures.

The parameter sets cover each solver and a float32-relevant setting (two small hidden layers,
single-threaded, whose float32 fits must keep float32 in ``check_estimators_dtypes`` and the
``X_dtype=float32`` variants). Early stopping is not among them: on the checks' tiny data
sets (a handful of rows) scikit-learn's own MLPs fail several checks with it, as fastnn's do
(the validation split is too small); it is covered in test_parity_semantics.py. ``max_iter`` is
kept small (scikit-learn's suite uses 100) so the file runs in seconds. scikit-learn's suite runs
``check_sample_weight_equivalence_on_dense_data`` for MLPs with its own per-check parameters
(``solver="lbfgs"`` for the classifier, ``solver="sgd", tol=1e-2, random_state=42`` for the
regressor, which fails ``check_regressors_train`` for scikit-learn's MLPRegressor as for
fastnn's): that check is also run here with exactly those parameters.
"""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from fastnn import MLPClassifier, MLPRegressor

ESTIMATORS = [
    # default solver (adam), as in scikit-learn's suite
    MLPClassifier(max_iter=100),
    MLPRegressor(max_iter=100),
    MLPClassifier(solver="sgd", max_iter=50, random_state=0),
    MLPRegressor(solver="sgd", max_iter=100, random_state=0),
    MLPClassifier(solver="lbfgs", max_iter=50, random_state=0),
    MLPRegressor(solver="lbfgs", max_iter=50, random_state=0),
    # float32-relevant: small two-layer network trained in the input's dtype, one thread
    MLPClassifier(hidden_layer_sizes=(16, 8), activation="tanh", learning_rate_init=0.01,
                  max_iter=50, n_threads=1, random_state=0),
    MLPRegressor(hidden_layer_sizes=(16, 8), activation="tanh", learning_rate_init=0.01,
                 max_iter=50, n_threads=1, random_state=0),
    # fastnn's regression losses
    MLPRegressor(loss="huber", max_iter=100, random_state=0),
    MLPRegressor(loss="quantile", quantile=0.5, max_iter=100, random_state=0),
    MLPRegressor(loss="absolute_error", solver="lbfgs", max_iter=50, random_state=0),
    # fastnn's activations
    MLPClassifier(activation="gelu", max_iter=100, random_state=0),
    MLPRegressor(activation="silu", solver="lbfgs", max_iter=50, random_state=0),
    # fastnn's solvers
    MLPClassifier(solver="adamw", max_iter=100, random_state=0),
    MLPRegressor(solver="rmsprop", max_iter=100, random_state=0),
]


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    # Small max_iter on purpose: scikit-learn's suite runs these checks with
    # ConvergenceWarning silenced too. Every other warning stays an error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [MLPClassifier(solver="lbfgs"), MLPRegressor(solver="sgd", tol=1e-2, random_state=42)],
    ids=["classifier-lbfgs", "regressor-sgd"],
)
def test_sample_weight_equivalence_with_sklearns_per_check_params(estimator):
    check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)
