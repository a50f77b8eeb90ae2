"""MLPClassifier and MLPRegressor: scikit-learn's estimators, trained by fastnn's C++ core.

The specification is scikit-learn 1.9's ``sklearn/neural_network/_multilayer_perceptron.py``.
Python owns the semantics (validation, label encoding, random initialisation, early stopping,
warnings, ``loss_curve_``); the core runs whole epochs and inference. Random draws (initial
weights, per-epoch shuffles, the early-stopping split) are made exactly as scikit-learn makes
them, so with the same ``random_state`` a float64 fit starts from scikit-learn's weights and
follows its trajectory up to rounding.
"""

import copy
import functools
import threading
import warnings
from abc import ABC, abstractmethod
from itertools import chain
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from fastnn import _core
from fastnn._callbacks import FitTasks, LbfgsIterations
from fastnn._compat import (
    CallbackSupportMixin,
    Interval,
    Options,
    StrOptions,
    _check_optimize_result,
    _check_sample_weight,
    _fit_context,
)
from fastnn._optimizers import AdamOptimizer, SGDOptimizer

_STOCHASTIC_SOLVERS = ["sgd", "adam"]

# Output activation -> the loss it is paired with (canonical link), as the core names them.
_LOSS_OF_OUTPUT = {
    "identity": "squared_error",
    "softmax": "log_loss",
    "logistic": "binary_log_loss",
    "exp": "poisson",
}

# Epochs a core call runs at most when a whole fit runs in the core (the loss buffer's size).
_EPOCHS_PER_CORE_CALL = 4096

_WEIGHT_INITS = {"sklearn", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal"}

_TRAINERS = {np.dtype(np.float32): _core.Trainer32, np.dtype(np.float64): _core.Trainer64}
_CSR_MATRICES = {np.dtype(np.float32): _core.CsrMatrix32, np.dtype(np.float64): _core.CsrMatrix64}


def _compute_dtype(*dtypes):
    """float32 when every input is float32, float64 otherwise (numpy's promotion, floats only)."""
    dtype = np.result_type(*dtypes)
    return dtype if dtype in _TRAINERS else np.dtype(np.float64)


def _pack(coefs, intercepts, dtype):
    """One flat parameter vector in scikit-learn's ``_pack`` order (all coefs, then intercepts)."""
    return np.concatenate([np.ravel(c) for c in chain(coefs, intercepts)]).astype(
        dtype, copy=False
    )


def _shuffled(sample_idx, random_state):
    """``sklearn.utils.shuffle(sample_idx, random_state=random_state)`` without its overhead
    (~90 µs a call): the same RandomState draw (a shuffle of ``arange(n)``), the same result."""
    indices = np.arange(sample_idx.shape[0])
    random_state.shuffle(indices)
    return sample_idx[indices]


def _as_core_array(a, dtype):
    """C-contiguous array of ``dtype``: no copy when ``a`` already is one."""
    return np.ascontiguousarray(a, dtype=dtype)


def _as_core_matrix(X, dtype):
    """X as the core reads it: a C-contiguous array, or a CSR matrix's buffers (CSC and other
    sparse formats are converted to CSR, as scikit-learn's sparse products would)."""
    if not sp.issparse(X):
        return _as_core_array(X, dtype)
    X = X.tocsr().astype(dtype, copy=False)
    return _CSR_MATRICES[np.dtype(dtype)](
        np.ascontiguousarray(X.data),
        X.indices.astype(np.int32, copy=False),
        X.indptr.astype(np.int64, copy=False),
        X.shape[1],
    )


# Threads running a fastnn fit in this process (thread id -> fits it is in), so that fits run
# side by side in threads (joblib's threading backend, GridSearchCV(n_jobs=...) under it) share
# the cores instead of each taking them all. Processes need no such count: joblib's loky
# workers and dask's nannies start with OMP_NUM_THREADS set to their share.
_fitting_threads = {}
_fitting_threads_lock = threading.Lock()


def _counted_as_running(fit):
    """Decorator: the calling thread counts as running a fastnn fit while ``fit`` runs."""

    @functools.wraps(fit)
    def counted_fit(*args, **kwargs):
        me = threading.get_ident()
        with _fitting_threads_lock:
            _fitting_threads[me] = _fitting_threads.get(me, 0) + 1
        try:
            return fit(*args, **kwargs)
        finally:
            with _fitting_threads_lock:
                _fitting_threads[me] -= 1
                if not _fitting_threads[me]:
                    del _fitting_threads[me]

    return counted_fit


def _shared_core_threads():
    """The core's thread count for ``n_threads=None``: 0 (all the calling thread may use) when
    no other thread of this process is running a fastnn fit; otherwise an even share of that,
    ``max(1, max_threads // busy threads)``, this thread included. Results do not depend on it.
    A fit keeps the count it started with (trainer workspaces are sized once)."""
    if not _fitting_threads:  # the common case, without the lock (predict's microseconds)
        return 0
    me = threading.get_ident()
    with _fitting_threads_lock:
        busy = len(_fitting_threads) + (me not in _fitting_threads)
    if busy <= 1:
        return 0
    return max(1, _core.max_threads() // busy)


class BaseMultilayerPerceptron(CallbackSupportMixin, BaseEstimator, ABC):
    """Base class for MLP classification and regression. Use the derived classes."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu", "leaky_relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [None, Interval(Integral, 1, None, closed="left")],
        "leaky_relu_slope": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "weight_init": [StrOptions(_WEIGHT_INITS), Interval(Real, 0, None, closed="neither")],
        "residual": ["boolean"],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        n_threads,
        leaky_relu_slope,
        dropout,
        weight_init,
        residual,
    ):
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.n_threads = n_threads
        self.leaky_relu_slope = leaky_relu_slope
        self.dropout = dropout
        self.weight_init = weight_init
        self.residual = residual

    # -- the network as the core sees it ------------------------------------------------------

    def _core_threads(self):
        if self.n_threads is None:
            return _shared_core_threads()
        # The core takes a C int, and never runs more threads than it has work blocks for:
        # a larger request (>= 2**31 was a TypeError from the binding) means "as many as useful".
        return min(int(self.n_threads), np.iinfo(np.int32).max)

    def _core_loss(self):
        """The core's name for the loss: the output activation's canonical loss, or the lecture
        notes' quadratic cost for a classifier with loss='squared_error' (sigmoid outputs)."""
        if is_classifier(self) and self.loss == "squared_error":
            return "quadratic"
        return _LOSS_OF_OUTPUT[self.out_activation_]

    def _network(self):
        layer_units = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        return _core.Network(
            layer_units,
            self.activation,
            self.out_activation_,
            self._core_loss(),
            float(self.leaky_relu_slope),
            bool(self.residual),
        )

    def _residual_layers(self):
        """Per layer, whether it is residual (see the ``residual`` parameter)."""
        n = len(self.coefs_)
        return [
            bool(self.residual) and 1 <= i < n - 1 and c.shape[0] == c.shape[1]
            for i, c in enumerate(self.coefs_)
        ]

    def _dropout_rates(self, n_hidden):
        """The dropout rate of every weight layer's output (the output layer's is 0)."""
        rates = np.asarray(self.dropout, dtype=np.float64)
        if rates.ndim == 0:
            rates = np.full(n_hidden, float(rates))
        if rates.ndim != 1 or rates.shape[0] != n_hidden:
            raise ValueError(
                "dropout must be a float or have one rate per hidden layer (%d), got %r."
                % (n_hidden, self.dropout)
            )
        if not np.all((rates >= 0) & (rates < 1)):
            raise ValueError("dropout rates must be in [0, 1), got %r." % (self.dropout,))
        return [float(r) for r in rates] + [0.0]

    def _unpack(self, params):
        """Point ``coefs_`` / ``intercepts_`` at views of the flat vector ``params``."""
        self.coefs_ = list(self.coefs_)
        self.intercepts_ = list(self.intercepts_)
        start = 0
        for i, c in enumerate(self.coefs_):
            end = start + c.size
            self.coefs_[i] = params[start:end].reshape(c.shape)
            start = end
        for i, b in enumerate(self.intercepts_):
            end = start + b.size
            self.intercepts_[i] = params[start:end]
            start = end

    def _check_fitted(self):
        if "coefs_" not in self.__dict__:  # fitted models skip check_is_fitted's scan
            check_is_fitted(self)

    def _plain_input(self, X):
        """X itself when it is an array the core reads as is and ``validate_data`` would return
        unchanged (a finite, C-contiguous float ndarray of the fitted width, no feature names to
        check); None otherwise. Single-row prediction then costs microseconds, not ~100."""
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in _TRAINERS
            and X.flags.c_contiguous
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and "feature_names_in_" not in self.__dict__
            and _core.all_finite(X)
        ):
            return X
        return None

    def _forward_pass_fast(self, X, check_input=True):
        """The network's output for X (output activation applied). The core reads every
        ``coefs_[i]`` / ``intercepts_[i]`` where it lies (memmaps included): nothing is packed."""
        if check_input:
            plain = self._plain_input(X)
            X = (
                plain if plain is not None
                else validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
            )
        dtype = X.dtype
        if dtype != self.coefs_[0].dtype:
            dtype = _compute_dtype(dtype, self.coefs_[0].dtype)
        return _core.predict(
            [_as_core_array(c, dtype) for c in self.coefs_],
            [_as_core_array(b, dtype) for b in self.intercepts_],
            self.activation,
            self.out_activation_,
            float(self.leaky_relu_slope),
            _as_core_matrix(X, dtype),
            self._core_threads(),
            self._residual_layers() if self.residual else [],
        )

    # -- fitting ------------------------------------------------------------------------------

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)

        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self.loss == "squared_error":
            self.out_activation_ = "logistic"  # the lecture notes' sigmoid outputs
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        self.coefs_ = []
        self.intercepts_ = []
        for i in range(self.n_layers_ - 1):
            coef_init, intercept_init = self._init_coef(layer_units[i], layer_units[i + 1], dtype)
            self.coefs_.append(coef_init)
            self.intercepts_.append(intercept_init)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]

        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _init_coef(self, fan_in, fan_out, dtype):
        rng = self._random_state
        init = self.weight_init
        if isinstance(init, str) and init == "sklearn":
            # Glorot et al.'s uniform initialisation, drawn exactly as scikit-learn draws it
            # (intercepts too; the bound's factor is 2 for logistic units).
            factor = 2.0 if self.activation == "logistic" else 6.0
            init_bound = np.sqrt(factor / (fan_in + fan_out))
            coef_init = rng.uniform(-init_bound, init_bound, (fan_in, fan_out))
            intercept_init = rng.uniform(-init_bound, init_bound, fan_out)
        elif isinstance(init, str):
            # Glorot/Xavier (variance 2 / (fan_in + fan_out)) or He (variance 2 / fan_in),
            # normal or uniform with that variance; intercepts start at zero.
            variance = 2.0 / (fan_in + fan_out) if init.startswith("glorot") else 2.0 / fan_in
            if init.endswith("uniform"):
                bound = np.sqrt(3.0 * variance)
                coef_init = rng.uniform(-bound, bound, (fan_in, fan_out))
            else:
                coef_init = rng.normal(0.0, np.sqrt(variance), (fan_in, fan_out))
            intercept_init = np.zeros(fan_out)
        else:
            # A number sigma: weights and intercepts from N(0, sigma^2), as in the lecture
            # notes' worked example (sigma = 0.5).
            coef_init = rng.normal(0.0, float(init), (fan_in, fan_out))
            intercept_init = rng.normal(0.0, float(init), fan_out)
        return coef_init.astype(dtype, copy=False), intercept_init.astype(dtype, copy=False)

    @_counted_as_running
    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes)
        dropout_rates = self._dropout_rates(len(hidden_layer_sizes))
        if any(dropout_rates) and self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                "dropout needs a stochastic solver ('sgd' or 'adam'), got solver=%r."
                % self.solver
            )
        if self.residual and not any(
            a == b for a, b in zip(hidden_layer_sizes[:-1], hidden_layer_sizes[1:])
        ):
            raise ValueError(
                "residual=True needs two consecutive hidden layers of the same width, got "
                "hidden_layer_sizes=%s." % (hidden_layer_sizes,)
            )
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        # A warm-started fit or partial_fit that diverges leaves the model it started from
        # (scikit-learn's keeps the non-finite weights: a model that predicts NaN).
        before = None if first_pass else self._fitted_state()

        tasks = FitTasks(self, X, y, sample_weight, incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape

        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)

        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]

        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)

        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, y, sample_weight, incremental, dropout_rates, tasks)
        elif self.solver == "lbfgs":
            self._fit_lbfgs(X, y, sample_weight, tasks)

        weights = chain(self.coefs_, self.intercepts_)
        if not all(np.isfinite(w).all() for w in weights):
            if before is not None:
                self.__dict__.update(before)
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        tasks.end()
        return self

    def _fitted_state(self):
        """A deep copy of everything a fit changes: all but the constructor parameters and the
        callbacks (``set_callbacks``' objects, which the fit does not own)."""
        kept = set(self._get_param_names())
        return copy.deepcopy(
            {k: v for k, v in self.__dict__.items()
             if k not in kept and not k.startswith("_skl_callbacks")}
        )

    def _core_inputs(self, X, y, sample_weight):
        """X, Y (as floats) and sample weights in the dtype training runs in; X is not copied
        when it already is a C-contiguous array of that dtype."""
        dtype = _compute_dtype(X.dtype, self.coefs_[0].dtype)
        X = _as_core_matrix(X, dtype)
        Y = _as_core_array(y, dtype)
        if sample_weight is not None:
            sample_weight = _as_core_array(sample_weight, dtype)
        return X, Y, sample_weight

    def _fit_lbfgs(self, X, y, sample_weight, tasks):
        X, Y, sample_weight = self._core_inputs(X, y, sample_weight)
        dtype = Y.dtype
        trainer = _TRAINERS[dtype](
            self._network(), X.shape[1], X.shape[0], self.alpha, self._core_threads()
        )
        params = _pack(self.coefs_, self.intercepts_, dtype)
        grad = np.empty_like(params)

        def loss_grad(packed):
            params[:] = packed
            loss = trainer.loss_and_gradient(params, X, Y, sample_weight, grad)
            return loss, grad.astype(np.float64)

        iterations = LbfgsIterations(tasks) if tasks.per_iteration else None
        opt_res = scipy.optimize.minimize(
            loss_grad,
            params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
            callback=iterations,
        )
        if iterations is not None:
            iterations.close()
        self.n_iter_ = _check_optimize_result("lbfgs", opt_res, self.max_iter)
        # As scikit-learn's: loss_ an np.float64, coefs_ scipy's float64 solution (also for
        # float32 X, whose loss and gradient are evaluated in float32, as scipy's L-BFGS-B
        # casts the parameters to x0's dtype before each evaluation).
        self.loss_ = np.float64(opt_res.fun)
        self._unpack(opt_res.x)

    def _fit_stochastic(self, X, y, sample_weight, incremental, dropout_rates, tasks):
        model_dtype = self.coefs_[0].dtype
        dtype = _compute_dtype(X.dtype, model_dtype)
        params = _pack(self.coefs_, self.intercepts_, dtype)
        self._unpack(params)  # coefs_ now view the vector the core updates
        if not incremental or not hasattr(self, "_optimizer"):
            if self.solver == "sgd":
                self._optimizer = SGDOptimizer(
                    params.size, dtype, self.learning_rate_init, self.learning_rate,
                    self.momentum, self.nesterovs_momentum, self.power_t,
                )
            else:
                self._optimizer = AdamOptimizer(
                    params.size, dtype, self.learning_rate_init, self.beta_1, self.beta_2,
                    self.epsilon,
                )

        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            # don't stratify in multilabel classification
            should_stratify = is_classifier(self) and self.n_outputs_ == 1
            stratify = y if should_stratify else None
            if sample_weight is None:
                X_train, X_val, y_train, y_val = train_test_split(
                    X, y, random_state=self._random_state,
                    test_size=self.validation_fraction, stratify=stratify,
                )
                sample_weight_train = sample_weight_val = None
            else:
                (X_train, X_val, y_train, y_val, sample_weight_train, sample_weight_val) = (
                    train_test_split(
                        X, y, sample_weight, random_state=self._random_state,
                        test_size=self.validation_fraction, stratify=stratify,
                    )
                )
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            if is_classifier(self):
                y_val = self._label_binarizer.inverse_transform(y_val)
        else:
            X_train, y_train, sample_weight_train = X, y, sample_weight
            X_val = y_val = sample_weight_val = None

        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=np.int64)

        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        X_train, Y_train, sample_weight_train = self._core_inputs(
            X_train, y_train, sample_weight_train
        )
        dropout_seed = 0
        if any(dropout_rates):
            # The masks' key: drawn once per call, then counter-based (see cpp/fastnn/dropout.hpp).
            dropout_seed = int(self._random_state.randint(np.iinfo(np.int64).max))
        else:
            dropout_rates = []
        trainer = _TRAINERS[dtype](
            self._network(), X_train.shape[1], batch_size, self.alpha, self._core_threads(),
            dropout_rates, dropout_seed,
        )

        try:
            self.n_iter_ = 0
            in_core = self._epochs_in_core(early_stopping, incremental, sample_weight_train, tasks)
            if in_core:
                self._run_epochs_in_core(
                    trainer, params, X_train, Y_train, sample_weight_train, sample_idx
                )
            for _ in range(0 if in_core else self.max_iter):
                epoch_task = tasks.begin_iteration("epoch")
                order = None
                if self.shuffle:
                    # Shuffle indices, not X, drawn as scikit-learn draws them.
                    sample_idx = _shuffled(sample_idx, self._random_state)
                    order = sample_idx
                if sample_weight_train is not None:
                    # scikit-learn's losses use np.average, which raises on a mini-batch whose
                    # weights sum to zero; the core would divide by zero: raise the same error.
                    sw = sample_weight_train if order is None else sample_weight_train[order]
                    if not np.all(np.add.reduceat(sw, np.arange(0, n_samples, batch_size))):
                        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
                accumulated_loss = self._optimizer.run_epoch(
                    trainer, params, X_train, Y_train, sample_weight_train, order, self.t_
                )

                self.n_iter_ += 1
                # np.float64, as scikit-learn's (loss_, loss_curve_ items, best_loss_)
                self.loss_ = np.float64(accumulated_loss) / X_train.shape[0]
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                self._update_no_improvement_count(early_stopping, X_val, y_val, sample_weight_val)

                # for learning rate that needs to be updated at iteration end
                self._optimizer.iteration_ends(self.t_)
                if tasks.end_iteration(epoch_task, tasks.epoch_state):
                    break  # a callback asked to stop

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    is_stopping = self._optimizer.trigger_stopping(msg, self.verbose)
                    if is_stopping:
                        break
                    else:
                        self._no_improvement_count = 0

                if incremental:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        except BaseException:
            # An error mid-fit (a zero-weight mini-batch, ...) leaves the weights in the
            # model's dtype, as scikit-learn's in-place updates do (see the rounding below).
            if self.coefs_[0].dtype != model_dtype:
                self.coefs_ = [c.astype(model_dtype) for c in self.coefs_]
                self.intercepts_ = [b.astype(model_dtype) for b in self.intercepts_]
            raise

        if early_stopping:
            # restore best weights
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

        if self.coefs_[0].dtype != model_dtype:
            # scikit-learn updates the parameters in place, so they keep their dtype: a float32
            # model warm-started / partial_fit on float64 X is computed in float64 and stays
            # float32. Here the epochs ran in float64; round once, at the end.
            self.coefs_ = [c.astype(model_dtype) for c in self.coefs_]
            self.intercepts_ = [b.astype(model_dtype) for b in self.intercepts_]

    def _epochs_in_core(self, early_stopping, incremental, sample_weight, tasks):
        """Whether the whole fit can run in one core call (``_run_epochs_in_core``): when
        nothing must happen in Python between epochs -- no early stopping (a validation
        score), no verbose lines, no per-epoch callbacks, no mini-batch whose weights could
        sum to zero (scikit-learn's ZeroDivisionError) -- and the shuffles come from a
        RandomState's MT19937 (the core reproduces its draws)."""
        if early_stopping or incremental or self.verbose or tasks.per_iteration:
            return False
        if getattr(self, "best_loss_", None) is None or not hasattr(self, "loss_curve_"):
            return False  # left by early stopping or lbfgs: the loop fails as scikit-learn's
        if sample_weight is not None and not np.all(sample_weight > 0):
            return False
        if self.shuffle:
            state = self._random_state.get_state(legacy=False)
            return state["bit_generator"] == "MT19937"
        return True

    def _run_epochs_in_core(self, trainer, params, X, Y, sample_weight, sample_idx):
        """Every epoch of the fit in one core call: the loop of ``_fit_stochastic`` (shuffles
        drawn from ``_random_state`` as scikit-learn draws them, learning-rate schedules,
        no-improvement count, stopping) run by the core's EpochRule, then its state and the
        loss curve recorded as the loop records them."""
        optimizer = self._optimizer
        sgd = self.solver == "sgd"
        rule = _core.EpochRule(
            tol=float(self.tol),
            n_iter_no_change=float(self.n_iter_no_change),
            schedule=optimizer.lr_schedule if sgd else "constant",
            learning_rate_init=float(self.learning_rate_init),
            power_t=float(self.power_t),
            learning_rate=float(optimizer.learning_rate) if sgd else 0.0,
            best_loss=float(self.best_loss_),
            no_improvement_count=float(self._no_improvement_count),
            samples_seen=int(self.t_),
        )
        idx = key = pos = state = None
        if self.shuffle:
            state = self._random_state.get_state(legacy=False)
            key = np.array(state["state"]["key"], dtype=np.uint32)
            pos = np.array([state["state"]["pos"]], dtype=np.int64)
            idx = np.ascontiguousarray(sample_idx, dtype=np.int64)
        # Epochs in blocks, so that the loss buffer stays small whatever max_iter is.
        losses = np.empty(min(self.max_iter, _EPOCHS_PER_CORE_CALL))
        interrupted = False
        try:
            while self.n_iter_ < self.max_iter and not (interrupted or rule.stopped):
                block = losses[: self.max_iter - self.n_iter_]
                epochs, interrupted = optimizer.run_epochs(
                    trainer, params, X, Y, sample_weight, idx, key, pos, rule, block
                )
                self._record_epochs(losses[:epochs], rule)
        finally:
            if state is not None:  # the generator advanced by the draws made
                state["state"]["key"], state["state"]["pos"] = key, int(pos[0])
                self._random_state.set_state(state)
        if interrupted:
            raise KeyboardInterrupt
        if not rule.stopped and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) "
                "reached and the optimization hasn't converged yet." % self.max_iter,
                ConvergenceWarning,
            )

    def _record_epochs(self, losses, rule):
        """The fitted state after the core ran ``losses.size`` epochs under ``rule``, as the
        epoch loop records it."""
        self.n_iter_ += losses.size
        self.t_ = rule.samples_seen
        self.loss_curve_.extend(losses)  # np.float64 items, as scikit-learn's
        if losses.size:
            self.loss_ = losses[-1]
            if rule.best_loss != self.best_loss_:
                self.best_loss_ = np.float64(rule.best_loss)
        self._no_improvement_count = int(rule.no_improvement_count)
        if self.solver == "sgd":
            self._optimizer.learning_rate = rule.learning_rate

    def _update_no_improvement_count(self, early_stopping, X, y, sample_weight):
        if early_stopping:
            # compute validation score (can be NaN), use that for stopping
            val_score = self._score(X, y, sample_weight=sample_weight)
            self.validation_scores_.append(val_score)
            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            last_valid_score = self.validation_scores_[-1]
            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _score_with_function(self, X, y, sample_weight, score_function):
        """Private score method without input validation."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def to_sklearn(self):
        """The equivalent fitted scikit-learn estimator: see :func:`fastnn.to_sklearn`."""
        from fastnn._interop import to_sklearn

        return to_sklearn(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __getstate__(self):
        # A copy: on Python >= 3.11 BaseEstimator's state is the instance's own __dict__, and
        # replacing coefs_ in it would detach a model being trained (copy.copy of it, as the
        # callbacks' fitted_estimator is made, pickles through here) from its parameter vector.
        state = dict(super().__getstate__())
        # coefs_ / intercepts_ are views of one vector: pickle them as plain arrays.
        for key in ("coefs_", "intercepts_"):
            if key in state:
                state[key] = [np.array(a) for a in state[key]]
        return state


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron classifier (scikit-learn's, trained by fastnn's C++ core).

    Parameters, attributes and methods are those of
    :class:`sklearn.neural_network.MLPClassifier` (scikit-learn 1.9); see its documentation.
    The additions (their defaults keep scikit-learn's behaviour):

    n_threads : int, default=None
        Threads used for training and prediction. None uses every core the process may use
        (``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``). Results are bitwise
        identical whatever the number of threads.

    leaky_relu_slope : float, default=0.01
        The slope ``a`` of ``activation='leaky_relu'`` for z < 0: g(z) = z for z >= 0, a·z
        otherwise (the lecture notes use a = 0.1). Ignored by the other activations.

    dropout : float or sequence of float, default=0.0
        Dropout rate of the hidden layers' outputs (one rate for all, or one per hidden layer),
        in [0, 1). Training samples a thinned network per example and mini-batch (kept units
        scaled by 1 / (1 - rate)); prediction uses the whole network, so every unit's expected
        output is the same in both. Masks come from a counter-based generator keyed by
        ``random_state``, the epoch and the row: results stay bitwise identical whatever the
        number of threads. Stochastic solvers only.

    weight_init : {'sklearn', 'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal'} \
            or float, default='sklearn'
        Initial weights. 'sklearn' draws exactly as scikit-learn does; Glorot/Xavier
        (variance 2 / (fan_in + fan_out)) and He (variance 2 / fan_in) draw the weights and
        start the intercepts at zero; a float sigma draws weights and intercepts from
        N(0, sigma^2).

    residual : bool, default=False
        Residual hidden layers: every hidden layer as wide as the hidden layer before it
        computes y[l+1] = y[l] + g(W y[l] + b) (the lecture notes' form). Needs two consecutive
        hidden layers of the same width.

    loss : {'log_loss', 'squared_error'}, default='log_loss'
        'squared_error' is the lecture notes' quadratic cost 1/N sum ½||y - F(x)||² on
        sigmoid outputs with one-hot targets (``predict_proba`` then normalises the outputs of
        a multiclass model to sum to one).
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"log_loss", "squared_error"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        n_threads=None,
        leaky_relu_slope=0.01,
        dropout=0.0,
        weight_init="sklearn",
        residual=False,
        loss="log_loss",
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            n_threads=n_threads,
            leaky_relu_slope=leaky_relu_slope,
            dropout=dropout,
            weight_init=weight_init,
            residual=residual,
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
            dtype=(np.float64, np.float32), reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        # Matching scikit-learn: the binarizer is refit on a first fit, kept for warm_start and
        # partial_fit (where unseen labels are an error).
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`."
                    f" `self.classes_` has {self.classes_}. 'y' has {classes}."
                )

        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray, shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        self._check_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        # LabelBinarizer.inverse_transform's decoding, without its overhead, for the two common
        # cases (argmax for multiclass; p > 0.5 for binary); every other case goes through it.
        binarizer = self._label_binarizer
        if binarizer.y_type_ == "multiclass" and y_pred.ndim == 2:
            return binarizer.classes_[y_pred.argmax(axis=1)]
        if binarizer.y_type_ == "binary" and y_pred.ndim == 1 and len(binarizer.classes_) == 2:
            return binarizer.classes_[(y_pred > 0.5).astype(np.intp)]
        return binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return super()._score_with_function(
            X, y, sample_weight=sample_weight, score_function=accuracy_score
        )

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit; required on the first call.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probability of the sample for each class in the model.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of the sample for each class in the model, where classes
            are ordered as they are in `self.classes_`.
        """
        self._check_fitted()
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        if self.loss == "squared_error" and self._label_binarizer.y_type_ == "multiclass":
            # Independent sigmoid outputs: normalised into a distribution over the classes.
            y_pred /= np.maximum(y_pred.sum(axis=1, keepdims=True), np.finfo(y_pred.dtype).tiny)
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron regressor (scikit-learn's, trained by fastnn's C++ core).

    Parameters, attributes and methods are those of
    :class:`sklearn.neural_network.MLPRegressor` (scikit-learn 1.9); see its documentation.
    The additions (their defaults keep scikit-learn's behaviour):

    n_threads : int, default=None
        Threads used for training and prediction. None uses every core the process may use
        (``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``). Results are bitwise
        identical whatever the number of threads.

    leaky_relu_slope : float, default=0.01
        The slope ``a`` of ``activation='leaky_relu'`` for z < 0: g(z) = z for z >= 0, a·z
        otherwise (the lecture notes use a = 0.1). Ignored by the other activations.

    dropout : float or sequence of float, default=0.0
        Dropout rate of the hidden layers' outputs (one rate for all, or one per hidden layer),
        in [0, 1). Training samples a thinned network per example and mini-batch (kept units
        scaled by 1 / (1 - rate)); prediction uses the whole network, so every unit's expected
        output is the same in both. Masks come from a counter-based generator keyed by
        ``random_state``, the epoch and the row: results stay bitwise identical whatever the
        number of threads. Stochastic solvers only.

    weight_init : {'sklearn', 'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal'} \
            or float, default='sklearn'
        Initial weights. 'sklearn' draws exactly as scikit-learn does; Glorot/Xavier
        (variance 2 / (fan_in + fan_out)) and He (variance 2 / fan_in) draw the weights and
        start the intercepts at zero; a float sigma draws weights and intercepts from
        N(0, sigma^2).

    residual : bool, default=False
        Residual hidden layers: every hidden layer as wide as the hidden layer before it
        computes y[l+1] = y[l] + g(W y[l] + b) (the lecture notes' form). Needs two consecutive
        hidden layers of the same width.
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        n_threads=None,
        leaky_relu_slope=0.01,
        dropout=0.0,
        weight_init="sklearn",
        residual=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            n_threads=n_threads,
            leaky_relu_slope=leaky_relu_slope,
            dropout=dropout,
            weight_init=weight_init,
            residual=residual,
        )

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        self._check_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return super()._score_with_function(
            X, y, sample_weight=sample_weight, score_function=r2_score
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
            dtype=(np.float64, np.float32), reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    # As in scikit-learn 1.9, the regressor's check is the (always truthy) bound method, not
    # its result: partial_fit exists for every solver, and with 'lbfgs' it runs a full L-BFGS
    # fit, continued from the current weights on later calls.
    @available_if(lambda est: est._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
