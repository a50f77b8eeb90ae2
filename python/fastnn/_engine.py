"""The engine: fits and predictions of a network, run by the C++ core.

The estimators validate and hand over; this module turns their arrays into what the core reads
and makes one kind of core call per task:

- stochastic fits (``sgd``, ``adam``): ``fit_stochastic`` is the epoch driver. Epochs run only
  in the core's ``run_epochs``, under its ``EpochRule`` (scikit-learn's best loss,
  no-improvement count, learning-rate schedules and stopping). When nothing has to happen in
  Python between epochs the whole fit is one call (a few for very long fits); otherwise --
  early stopping's validation score, ``verbose`` lines, per-epoch callbacks, ``partial_fit`` --
  the core runs one epoch a call, Python hands the rule the epoch's criterion and prints what
  the rule reports.
- ``lbfgs``: scipy's L-BFGS-B over the core's full-batch loss and gradient.
- ``predict``: the core reads every layer's arrays where they lie.

Random draws (initial weights, per-epoch shuffles, the early-stopping split) are made as
scikit-learn makes them: with the same ``random_state``, a float64 fit follows scikit-learn's
trajectory up to rounding.
"""

import warnings
import weakref
from itertools import chain

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from fastnn import _core
from fastnn._callbacks import LbfgsIterations
from fastnn._compat import _check_optimize_result
from fastnn._fitted_state import FitProgress, data_digest, epoch_state, layer_views
from fastnn._optimizers import (
    AdamOptimizer,
    AdamWOptimizer,
    RMSpropOptimizer,
    RpropOptimizer,
    SGDOptimizer,
)
from fastnn._schedule import epoch_factor, rule_schedule
from fastnn._threads import blas_on_one_thread, core_threads
from fastnn._validation import ValidationSet, validation_split

__all__ = [
    "compute_dtype", "fit_lbfgs", "fit_stochastic", "hidden_activations", "is_core_dtype",
    "predict", "predict_plain", "run_lbfgs",
]

_TRAINERS = {np.dtype(np.float32): _core.Trainer32, np.dtype(np.float64): _core.Trainer64}
_CSR_MATRICES = {np.dtype(np.float32): _core.CsrMatrix32, np.dtype(np.float64): _core.CsrMatrix64}

# Epochs a core call runs at most when a whole fit runs in the core (the loss buffer's size).
EPOCHS_PER_CORE_CALL = 4096


def compute_dtype(*dtypes):
    """float32 when every input is float32, float64 otherwise (numpy's promotion, floats only)."""
    dtype = np.result_type(*dtypes)
    return dtype if dtype in _TRAINERS else np.dtype(np.float64)


def is_core_dtype(dtype):
    """Whether the core trains and predicts in ``dtype`` as it is (float32, float64)."""
    return dtype in _TRAINERS


def _pack(coefs, intercepts, dtype):
    """One flat parameter vector in scikit-learn's ``_pack`` order (all coefs, then intercepts)."""
    return np.concatenate([np.ravel(c) for c in chain(coefs, intercepts)]).astype(
        dtype, copy=False
    )


def _unpack(model, params):
    """Point ``model.coefs_`` / ``intercepts_`` at views of the flat vector ``params``."""
    model.coefs_, model.intercepts_ = layer_views(params, model.coefs_, model.intercepts_)


def _shuffled(sample_idx, random_state):
    """``sklearn.utils.shuffle(sample_idx, random_state=random_state)`` without its overhead:
    the same RandomState draw (a shuffle of ``arange(n)``), the same result. Used only for a
    RandomState over another bit generator than MT19937, whose draws the core cannot make."""
    indices = np.arange(sample_idx.shape[0])
    random_state.shuffle(indices)
    return sample_idx[indices]


def _as_core_array(a, dtype):
    """C-contiguous array of ``dtype``: no copy when ``a`` already is one."""
    return np.ascontiguousarray(a, dtype=dtype)


def _as_core_arrays(arrays, dtype):
    """The list ``arrays`` itself when every array is C-contiguous of ``dtype`` (a fitted
    model's layers, at every prediction), else a list of such arrays."""
    for a in arrays:
        if a.dtype != dtype or not a.flags.c_contiguous:
            return [_as_core_array(a, dtype) for a in arrays]
    return arrays


def _as_core_matrix(X, dtype):
    """X as the core reads it: a C-contiguous array, or a CSR matrix's buffers (CSC and other
    sparse formats are converted to CSR, as scikit-learn's sparse products would)."""
    if isinstance(X, np.ndarray) or not sp.issparse(X):
        return _as_core_array(X, dtype)
    X = X.tocsr().astype(dtype, copy=False)
    return _CSR_MATRICES[np.dtype(dtype)](
        np.ascontiguousarray(X.data),
        X.indices.astype(np.int32, copy=False),
        X.indptr.astype(np.int64, copy=False),
        X.shape[1],
    )


def _core_inputs(X, y, sample_weight, dtype):
    """X, Y (as floats) and sample weights in ``dtype``; X is not copied when it already is a
    C-contiguous array of that dtype."""
    X = _as_core_matrix(X, dtype)
    Y = _as_core_array(y, dtype)
    if sample_weight is not None:
        sample_weight = _as_core_array(sample_weight, dtype)
    return X, Y, sample_weight


# --------------------------------------------------------------------------------- predict
_PREDICTOR_CLASSES = {np.dtype(np.float32): _core.Predictor32,
                      np.dtype(np.float64): _core.Predictor64}
# A model's Predictor and its key: a fitted model's layers are converted and checked once,
# not at every prediction (most of a single-row predict's cost otherwise). The key holds the
# layer arrays' identities and what else the network is made of, so replacing an array or a
# parameter makes a new Predictor; the core checks at each call that the arrays it views were
# not reshaped or resized in place, and in-place edits of their values are read as they are.
_PREDICTORS = {}  # id(model) -> _CachedPredictor, removed when the model is collected


class _CachedPredictor:
    __slots__ = ("key", "params", "predictor")

    def __init__(self, key, params, predictor):
        self.key, self.params, self.predictor = key, params, predictor


def _network_params(model):
    """What a model's network is made of besides its layer arrays."""
    return model.activation, model.out_activation_, model.leaky_relu_slope, model.residual


def _predictor(model, dtype, residual_layers):
    key = (dtype, _network_params(model), tuple(residual_layers), tuple(map(id, model.coefs_)),
           tuple(map(id, model.intercepts_)))
    entry = _PREDICTORS.get(id(model))
    if entry is not None and entry.key == key:
        return entry.predictor
    coefs, intercepts = model.coefs_, model.intercepts_
    core_coefs = _as_core_arrays(coefs, dtype)
    core_intercepts = _as_core_arrays(intercepts, dtype)
    predictor = _PREDICTOR_CLASSES[dtype](
        core_coefs, core_intercepts, model.activation, model.out_activation_,
        float(model.leaky_relu_slope), residual_layers,
    )
    if core_coefs is coefs and core_intercepts is intercepts:  # read in place: keep it
        if entry is None:
            weakref.finalize(model, _PREDICTORS.pop, id(model), None)
        _PREDICTORS[id(model)] = _CachedPredictor(key, key[1], predictor)
    return predictor


def predict_plain(model, X, residual_layers):
    """The output for an ndarray X that needs no conversion and no validation (C-contiguous,
    finite, of the model's dtype and width): single-row prediction's path, which checks all of
    that in one call to the core. None for any other X."""
    entry = _PREDICTORS.get(id(model))
    if entry is not None and entry.params == _network_params(model):
        out = entry.predictor.plain(X, model.coefs_, model.intercepts_,
                                    core_threads(model.n_threads))
        if out is not False:
            return out
    # no Predictor yet, or a stale one: (re)build it and ask again
    predictor = _predictor(model, model.coefs_[0].dtype, residual_layers())
    out = predictor.plain(X, model.coefs_, model.intercepts_, core_threads(model.n_threads))
    return None if out is False else out  # False: layers the core cannot read in place


def predict(model, X, residual_layers, check_finite=False):
    """The network's output for validated X (output activation applied); with check_finite,
    None when dense X holds a NaN or an infinity."""
    dtype = X.dtype
    if dtype != model.coefs_[0].dtype:
        dtype = compute_dtype(dtype, model.coefs_[0].dtype)
    return _predictor(model, dtype, residual_layers)(
        _as_core_matrix(X, dtype), core_threads(model.n_threads), check_finite
    )


def hidden_activations(model, X, n_hidden, residual_layers):
    """The activations of hidden layer ``n_hidden`` (1-based) for validated X, in the model's
    dtype (X is converted to it)."""
    dtype = compute_dtype(model.coefs_[0].dtype)
    return _predictor(model, dtype, residual_layers).hidden(
        _as_core_matrix(X, dtype), n_hidden, core_threads(model.n_threads)
    )


# ---------------------------------------------------------------------------------- L-BFGS
def fit_lbfgs(model, spec, X, y, sample_weight, tasks):
    """scipy's L-BFGS-B over the core's full-batch loss and gradient, as scikit-learn's."""
    loss_type = spec.loss_type(y.dtype, sample_weight is not None)
    X, Y, sample_weight = _core_inputs(X, y, sample_weight, spec.dtype)
    trainer = _TRAINERS[spec.dtype](
        spec.network(), X.shape[1], X.shape[0], model.alpha, core_threads(model.n_threads)
    )
    params = _pack(model.coefs_, model.intercepts_, spec.dtype)
    grad = np.empty_like(params)

    def loss_grad(packed):
        params[:] = packed
        loss = trainer.loss_and_gradient(params, X, Y, sample_weight, grad)
        return loss, grad.astype(np.float64)

    run_lbfgs(model, loss_grad, params, loss_type, tasks)


def run_lbfgs(model, loss_grad, params, loss_type, tasks):
    """scipy's L-BFGS-B from ``params`` over ``loss_grad(packed) -> (loss, float64
    gradient)``, with scikit-learn's options; sets ``n_iter_``, ``loss_``, ``coefs_`` and
    ``intercepts_``. (The full-batch loss and gradient come from the core, or from the blocks of
    a Dask cluster: ``fastnn.dask``.)"""
    iterations = LbfgsIterations(tasks) if tasks.per_iteration else None
    with blas_on_one_thread():  # no BLAS thread spins on the cores the core's team needs
        opt_res = scipy.optimize.minimize(
            loss_grad,
            params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": model.max_fun, "maxiter": model.max_iter, "gtol": model.tol},
            callback=iterations,
        )
    if iterations is not None:
        iterations.close()
    model.n_iter_ = _check_optimize_result("lbfgs", opt_res, model.max_iter)
    # As scikit-learn's: loss_ of its loss function's type, coefs_ scipy's float64 solution
    # (also for float32 X, whose loss and gradient are evaluated in float32, as scipy's
    # L-BFGS-B casts the parameters to x0's dtype before each evaluation).
    model.loss_ = loss_type(opt_res.fun)
    _unpack(model, opt_res.x)


# ------------------------------------------------------------------------ stochastic fits
def _optimizer(model, n_params, dtype):
    if model.solver == "sgd":
        return SGDOptimizer(
            n_params, dtype, model.learning_rate_init, model.learning_rate, model.momentum,
            model.nesterovs_momentum, model.power_t,
        )
    if model.solver == "rmsprop":
        return RMSpropOptimizer(n_params, dtype, model.learning_rate_init, model.beta_2,
                                model.epsilon)
    if model.solver == "rprop":
        return RpropOptimizer(n_params, dtype, model.learning_rate_init)
    if model.solver == "adamw":
        return AdamWOptimizer(n_params, dtype, model.learning_rate_init, model.beta_1,
                              model.beta_2, model.epsilon, model.alpha)
    return AdamOptimizer(
        n_params, dtype, model.learning_rate_init, model.beta_1, model.beta_2, model.epsilon,
    )


def _batch_size(model, n_samples):
    if model.solver == "rprop":  # a full-batch method
        return n_samples
    if model.batch_size == "auto":
        return min(200, n_samples)
    if model.batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than "
            "sample size. It is going to be clipped"
        )
    return int(np.clip(model.batch_size, 1, n_samples))


def fit_stochastic(model, spec, X, y, sample_weight, incremental, tasks, validation=None,
                   epochs=1, resume=None):
    """A stochastic fit (``partial_fit``: ``epochs`` epochs, as many calls of one) of
    ``model`` from its current weights, recording scikit-learn's fitted state (``loss_curve_``,
    ``n_iter_``, ``t_``, ...).
    ``validation``: early stopping's validation set (X, Y, sample_weight) given to ``fit``;
    None splits one off the training data, as scikit-learn does. ``resume``: the FitProgress
    of a checkpoint, whose fit this one continues (``fastnn.callbacks.resume``)."""
    model_dtype = model.coefs_[0].dtype if resume is None else resume.model_dtype
    params = _pack(model.coefs_, model.intercepts_, spec.dtype)
    _unpack(model, params)  # coefs_ now view the vector the core updates
    if (not incremental and resume is None) or not hasattr(model, "_optimizer"):
        model._optimizer = _optimizer(model, params.size, spec.dtype)
    if model.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    # A fit whose callbacks may checkpoint it keeps its progress where they can read it.
    progress = resume
    if resume is None and tasks.per_iteration and not incremental:
        progress = FitProgress(model_dtype, data=(X, y, sample_weight))
    if resume is not None and resume.digest != data_digest(X, y, sample_weight):
        raise ValueError("X, y or sample_weight are not the data the checkpoint's fit was "
                         "trained on.")
    if model.early_stopping:
        if validation is None:
            (X, y, sample_weight), validation, split = validation_split(
                model, X, y, sample_weight, None if resume is None else resume.split)
            if progress is not None:
                progress.split = split
        validation = ValidationSet(model, spec, *validation)
    batch_size = _batch_size(model, X.shape[0])
    loss_type = spec.loss_type(y.dtype, sample_weight is not None)
    X, Y, sample_weight = _core_inputs(X, y, sample_weight, spec.dtype)
    dropout_seed = 0
    if spec.dropout_rates:
        # The masks' key: drawn once per call, then counter-based (see cpp/fastnn/dropout.hpp).
        dropout_seed = (resume.dropout_seed if resume is not None
                        else int(model._random_state.randint(np.iinfo(np.int64).max)))
    if progress is not None:
        progress.dropout_seed = dropout_seed if spec.dropout_rates else None
        progress.generator = model._random_state
        model._fit_progress = progress
    trainer = _TRAINERS[spec.dtype](
        spec.network(), X.shape[1], batch_size,
        0.0 if model.solver == "adamw" else model.alpha,  # adamw: alpha is the decay
        core_threads(model.n_threads),
        list(spec.dropout_rates), dropout_seed,
    )
    try:
        _EpochDriver(model, trainer, params, X, Y, sample_weight, validation, incremental,
                     tasks, loss_type, epochs, progress, resume is not None).run()
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")
    except BaseException:
        # An error mid-fit (a zero-weight mini-batch, ...) leaves the weights in the
        # model's dtype, as scikit-learn's in-place updates do (see the rounding below).
        _round_to(model, model_dtype)
        raise
    finally:
        model.__dict__.pop("_fit_progress", None)
    if model.early_stopping:  # restore the best weights
        model.coefs_ = model._best_coefs
        model.intercepts_ = model._best_intercepts
    # scikit-learn updates the parameters in place, so they keep their dtype: a float32 model
    # warm-started / partial_fit on float64 X is computed in float64 and stays float32. Here
    # the epochs ran in float64; round once, at the end.
    _round_to(model, model_dtype)


def _round_to(model, dtype):
    if model.coefs_[0].dtype != dtype:
        model.coefs_ = [c.astype(dtype) for c in model.coefs_]
        model.intercepts_ = [b.astype(dtype) for b in model.intercepts_]


class _EpochDriver:
    """Runs a stochastic fit's epochs through the core, and records them on the model."""

    def __init__(self, model, trainer, params, X, Y, sample_weight, validation, incremental,
                 tasks, loss_type, epochs, progress=None, resumed=False):
        self.model = model
        self.loss_type = loss_type  # of the recorded losses (NetworkSpec.loss_type)
        self.trainer = trainer
        self.params = params
        self.data = (X, Y, sample_weight)
        self.validation = validation
        self.incremental = incremental
        self.progress = progress  # kept current after each epoch (checkpoints read it)
        self.resumed = resumed  # a checkpoint's fit, continued from its progress
        self.max_epochs = epochs if incremental else model.max_iter
        self.tasks = tasks
        # Python acts between epochs: the core runs one epoch a call and leaves the rule to us.
        self.given_schedule = callable(model.lr_schedule)  # Python gives each epoch's factor
        self.one_at_a_time = bool(validation is not None or model.verbose or tasks.per_iteration
                                  or self.given_schedule)
        self.sgd = model.solver == "sgd"
        self.rule = self._rule()

    def _rule(self):
        """The core's EpochRule, with the state the model carries between fits. The model's
        state is read with scikit-learn's own expressions, so that a state left by another
        solver or by a fit with(out) early stopping fails with scikit-learn's error."""
        model = self.model
        model.loss_curve_  # noqa: B018 -- AttributeError after an lbfgs fit, as scikit-learn's
        if self.validation is not None:
            model.validation_scores_.append  # noqa: B018 -- None unless early stopping ran
            if getattr(model, "validation_loss_curve_", None) is None:  # not recorded before
                model.validation_loss_curve_ = [np.nan] * len(model.validation_scores_)
            best, criterion = model.best_validation_score_, "validation_score"
        else:
            model.best_loss_ - model.tol  # noqa: B018 -- None after early stopping
            best, criterion = model.best_loss_, "training_loss"
        optimizer = model._optimizer
        return _core.EpochRule(
            tol=float(model.tol),
            n_iter_no_change=float(model.n_iter_no_change),
            criterion=criterion,
            learning_rate_init=float(model.learning_rate_init),
            power_t=float(model.power_t),
            best=float(best),
            no_improvement_count=float(model._no_improvement_count),
            samples_seen=int(model.t_),
            incremental=self.incremental,
            **rule_schedule(model, optimizer, self.sgd),
        )

    def run(self):
        model, rule = self.model, self.rule
        X = self.data[0]
        n_samples = X.shape[0]
        random_state = model._random_state
        order = key = pos = state = None
        if model.shuffle:
            order = (np.array(self.progress.order, dtype=np.int64) if self.resumed
                     else np.arange(n_samples, dtype=np.int64))
            state = random_state.get_state(legacy=False)
            if state["bit_generator"] == "MT19937":  # the core draws the shuffles itself
                key = np.array(state["state"]["key"], dtype=np.uint32)
                pos = np.array([state["state"]["pos"]], dtype=np.int64)
            else:
                state = None
        # A generator the core cannot draw from (another bit generator than MT19937): Python
        # shuffles before every epoch, so the core runs one epoch a call (the rule its own).
        python_shuffles = model.shuffle and key is None
        budget = (1 if self.one_at_a_time or python_shuffles
                  else min(self.max_epochs, EPOCHS_PER_CORE_CALL))
        losses = np.empty(budget)
        if not self.resumed:
            model.n_iter_ = 0
        stopped = self.resumed and self.progress.stopped
        interrupted = False

        def sync_generator():  # the generator advanced by the draws the core made
            if state is not None:
                state["state"]["key"], state["state"]["pos"] = key, int(pos[0])
                random_state.set_state(state)

        try:
            while model.n_iter_ < self.max_epochs and not (stopped or interrupted):
                if python_shuffles:  # an incremental epoch shuffles 0..n-1, as a call does
                    if self.incremental:
                        order = np.arange(n_samples, dtype=np.int64)
                    order = _shuffled(order, random_state)
                if self.given_schedule:
                    rule.factor = epoch_factor(model.lr_schedule, rule.epoch)
                task = self.tasks.begin_iteration("epoch") if self.one_at_a_time else None
                block = losses[: self.max_epochs - model.n_iter_]
                epochs, interrupted = model._optimizer.run_epochs(
                    self.trainer, self.params, *self.data, order, key, pos, rule, block,
                    not self.one_at_a_time,
                )
                self._record(losses[:epochs])
                if not self.one_at_a_time:
                    stopped = rule.stopped and not self.incremental
                elif epochs:
                    if self.progress is not None:
                        self.progress.order = order
                        sync_generator()
                    stopped = self._between_epochs(task)
        finally:
            sync_generator()
        if interrupted:
            raise KeyboardInterrupt
        if not stopped and not self.incremental and model.n_iter_ == model.max_iter:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) "
                "reached and the optimization hasn't converged yet." % model.max_iter,
                ConvergenceWarning,
            )

    def _record(self, losses):
        """The fitted state after the core ran ``losses.size`` epochs."""
        model = self.model
        model.n_iter_ += losses.size
        losses = losses.astype(self.loss_type, copy=False)  # scikit-learn's type
        model.loss_curve_.extend(losses)
        if losses.size:
            model.loss_ = losses[-1]
        if not self.one_at_a_time:
            self._record_rule()

    def _record_rule(self):
        """The rule's state, where scikit-learn's fitted state keeps it."""
        model, rule = self.model, self.rule
        model.t_ = rule.samples_seen
        if self.validation is None and rule.best != model.best_loss_:
            model.best_loss_ = self.loss_type(rule.best)
        model._no_improvement_count = int(rule.no_improvement_count)
        optimizer = model._optimizer
        optimizer.schedule_epoch, optimizer.plateau_rate = rule.epoch, rule.plateau_rate
        if self.sgd:
            optimizer.learning_rate = rule.learning_rate

    def _between_epochs(self, task):
        """After one epoch: verbose lines, the validation score, the rule, the callbacks, in
        scikit-learn's order. Returns True when training stops."""
        model, rule = self.model, self.rule
        if model.verbose:
            print("Iteration %d, loss = %.8f" % (model.n_iter_, model.loss_))
        n_samples = self.data[0].shape[0]
        if self.validation is None:
            rule.record(float(model.loss_), n_samples)
        else:
            # compute validation score (can be NaN), use that for stopping
            score, loss = self.validation.evaluate(model)
            model.validation_scores_.append(score)
            model.validation_loss_curve_.append(loss)
            if model.verbose:
                print("Validation score: %f" % score)
                if model.scoring is not None:
                    print("Validation loss: %.8f" % loss)
            if rule.record(float(score), n_samples):
                model.best_validation_score_ = score
                model._best_coefs = [c.copy() for c in model.coefs_]
                model._best_intercepts = [b.copy() for b in model.intercepts_]
        decision = rule.decide()
        self._record_rule()
        if decision != "go_on" and model.verbose:
            print(self._stopping_message(decision))
        # partial_fit: a stop ends only its call's one epoch (scikit-learn's), not the next ones
        stop = decision == "stop" and not self.incremental
        if self.progress is not None:
            self.progress.stopped = stop
        # the epoch's task ends once the rule has decided: a checkpoint holds the decision
        if self.tasks.end_iteration(task, lambda: epoch_state(model)):
            return True  # a callback asked to stop
        return stop

    def _stopping_message(self, decision):
        model = self.model
        what = "Validation score" if self.validation is not None else "Training loss"
        msg = "%s did not improve more than tol=%f for %d consecutive epochs." % (
            what, model.tol, model.n_iter_no_change)
        if decision == "lower_learning_rate":
            return msg + " Setting learning rate to %f" % self.rule.learning_rate
        if (self.sgd and model.learning_rate == "adaptive") or model.lr_schedule == "plateau":
            return msg + " Learning rate too small. Stopping."
        return msg + " Stopping."
