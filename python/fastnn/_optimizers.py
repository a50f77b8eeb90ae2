"""Stochastic optimizers' state and schedules, with scikit-learn's semantics.

The update rules themselves run in C++ (cpp/fastnn/optimizers.hpp), once per mini-batch, inside
the epoch call. Python keeps the state (flat arrays in the parameters' packed layout, so a model
pickles and ``partial_fit`` resumes) and the per-epoch schedule logic.
"""

import numpy as np


def _writable(a, dtype):
    """``a`` as an array of ``dtype`` that the core may update in place: copied only when it
    is not one (read-only state, e.g. memmaps from ``joblib.load(..., mmap_mode="r")``)."""
    a = a.astype(dtype, copy=False)
    return a if a.flags.writeable else np.array(a)


class SGDOptimizer:
    """SGD with momentum / Nesterov momentum and the learning-rate schedules."""

    def __init__(self, n_params, dtype, learning_rate_init, lr_schedule, momentum, nesterov,
                 power_t):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    def run_epoch(self, trainer, params, X, Y, sample_weight, order, epoch):
        self.velocity = _writable(self.velocity, params.dtype)
        return trainer.run_epoch_sgd(
            params, self.velocity, X, Y, sample_weight, order,
            self.learning_rate, self.momentum, bool(self.nesterov), epoch,
        )

    def run_epochs(self, trainer, params, X, Y, sample_weight, sample_idx, key, pos, rule,
                   losses):
        self.velocity = _writable(self.velocity, params.dtype)
        return trainer.run_epochs_sgd(
            params, self.velocity, X, Y, sample_weight, sample_idx, key, pos, rule, losses,
            self.momentum, bool(self.nesterov),
        )

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class AdamOptimizer:
    """Adam (Kingma & Ba), with scikit-learn's bias-corrected learning rate."""

    def __init__(self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._t = np.zeros(1, dtype=np.int64)  # updated by the core at every step
        self.ms = np.zeros(n_params, dtype=dtype)
        self.vs = np.zeros(n_params, dtype=dtype)

    def run_epoch(self, trainer, params, X, Y, sample_weight, order, epoch):
        self._writable_state(params.dtype)
        try:
            return trainer.run_epoch_adam(
                params, self.ms, self.vs, self._t, X, Y, sample_weight, order,
                self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon, epoch,
            )
        finally:  # also after Ctrl-C, which leaves the steps already taken in place
            self._update_learning_rate()

    def run_epochs(self, trainer, params, X, Y, sample_weight, sample_idx, key, pos, rule,
                   losses):
        """Epochs until ``rule`` stops training, at most ``losses.size`` (their mean losses are
        written there); returns (epochs run, interrupted)."""
        self._writable_state(params.dtype)
        try:
            return trainer.run_epochs_adam(
                params, self.ms, self.vs, self._t, X, Y, sample_weight, sample_idx, key, pos,
                rule, losses, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon,
            )
        finally:
            self._update_learning_rate()

    def _writable_state(self, dtype):
        self.ms = _writable(self.ms, dtype)
        self.vs = _writable(self.vs, dtype)
        self._t = _writable(self._t, np.int64)

    def _update_learning_rate(self):
        """scikit-learn's attribute: the bias-corrected rate of the last step taken."""
        if self.t:
            self.learning_rate = (
                self.learning_rate_init
                * np.sqrt(1 - self.beta_2**self.t)
                / (1 - self.beta_1**self.t)
            )

    @property
    def t(self):
        """Number of steps taken."""
        return int(self._t[0])

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True
