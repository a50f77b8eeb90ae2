"""Stochastic optimizers' state, with scikit-learn's attributes.

The update rules run in C++ (cpp/fastnn/optimizers.hpp), once per mini-batch, inside the core's
epoch driver; the rules between epochs (learning-rate schedules, stopping) are the core's
EpochRule. Python keeps the state -- flat arrays in the parameters' packed layout, so a model
pickles and ``partial_fit`` resumes -- and hands it to the core.
"""

import numpy as np


def _writable(a, dtype):
    """``a`` as an array of ``dtype`` that the core may update in place: copied only when it
    is not one (read-only state, e.g. memmaps from ``joblib.load(..., mmap_mode="r")``)."""
    a = a.astype(dtype, copy=False)
    return a if a.flags.writeable else np.array(a)


class SGDOptimizer:
    """SGD with momentum / Nesterov momentum; ``learning_rate`` follows the schedule."""

    def __init__(self, n_params, dtype, learning_rate_init, lr_schedule, momentum, nesterov,
                 power_t):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)
        self.schedule_epoch = 0  # lr_schedule's state (see fastnn._schedule)
        self.plateau_rate = float(learning_rate_init)

    def run_epochs(self, trainer, params, X, Y, sample_weight, order, key, pos, rule, losses,
                   apply_rule):
        """``trainer.run_epochs_sgd`` with this state; returns (epochs run, interrupted)."""
        self.velocity = _writable(self.velocity, params.dtype)
        return trainer.run_epochs_sgd(
            params, self.velocity, X, Y, sample_weight, order, key, pos, rule, losses,
            self.momentum, bool(self.nesterov), apply_rule,
        )


class AdamOptimizer:
    """Adam (Kingma & Ba), with scikit-learn's bias-corrected learning rate."""

    def __init__(self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.schedule_epoch = 0  # lr_schedule's state (see fastnn._schedule)
        self.plateau_rate = float(learning_rate_init)
        self._t = np.zeros(1, dtype=np.int64)  # updated by the core at every step
        self.ms = np.zeros(n_params, dtype=dtype)
        self.vs = np.zeros(n_params, dtype=dtype)

    def run_epochs(self, trainer, params, X, Y, sample_weight, order, key, pos, rule, losses,
                   apply_rule):
        """``trainer.run_epochs_adam`` with this state; returns (epochs run, interrupted)."""
        self._writable_state(params.dtype)
        try:
            return trainer.run_epochs_adam(
                params, self.ms, self.vs, self._t, X, Y, sample_weight, order, key, pos, rule,
                losses, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon,
                apply_rule,
            )
        finally:  # also after Ctrl-C, which leaves the steps already taken in place
            if self.t:  # scikit-learn's attribute: the bias-corrected rate of the last step
                self.learning_rate = (
                    rule.learning_rate  # the epoch's rate: learning_rate_init, or scheduled
                    * np.sqrt(1 - self.beta_2**self.t)
                    / (1 - self.beta_1**self.t)
                )

    def _writable_state(self, dtype):
        """The moments and the step count as arrays the core may update in place."""
        self.ms = _writable(self.ms, dtype)
        self.vs = _writable(self.vs, dtype)
        self._t = _writable(self._t, np.int64)

    @property
    def t(self):
        """Number of steps taken."""
        return int(self._t[0])


class AdamWOptimizer(AdamOptimizer):
    """AdamW: Adam with decoupled weight decay ``decay`` on the coefficients, PyTorch's
    ``torch.optim.AdamW`` step (see cpp/fastnn/optimizers.hpp). ``learning_rate`` is the
    epoch's rate (no bias correction in it)."""

    def __init__(self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon, decay):
        super().__init__(n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon)
        self.decay = decay

    def run_epochs(self, trainer, params, X, Y, sample_weight, order, key, pos, rule, losses,
                   apply_rule):
        """``trainer.run_epochs_adamw`` with this state; returns (epochs run, interrupted)."""
        self._writable_state(params.dtype)
        try:
            return trainer.run_epochs_adamw(
                params, self.ms, self.vs, self._t, X, Y, sample_weight, order, key, pos, rule,
                losses, self.beta_1, self.beta_2, self.epsilon, float(self.decay), apply_rule,
            )
        finally:
            self.learning_rate = rule.learning_rate


class RMSpropOptimizer:
    """RMSprop, PyTorch's ``torch.optim.RMSprop`` step (not centred, no momentum); its
    smoothing constant is ``rho`` (the estimator's ``beta_2``)."""

    def __init__(self, n_params, dtype, learning_rate_init, rho, epsilon):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.rho = rho
        self.epsilon = epsilon
        self.schedule_epoch = 0  # lr_schedule's state (see fastnn._schedule)
        self.plateau_rate = float(learning_rate_init)
        self.vs = np.zeros(n_params, dtype=dtype)

    def run_epochs(self, trainer, params, X, Y, sample_weight, order, key, pos, rule, losses,
                   apply_rule):
        """``trainer.run_epochs_rmsprop`` with this state; returns (epochs run, interrupted)."""
        self.vs = _writable(self.vs, params.dtype)
        try:
            return trainer.run_epochs_rmsprop(
                params, self.vs, X, Y, sample_weight, order, key, pos, rule, losses, self.rho,
                self.epsilon, apply_rule,
            )
        finally:
            self.learning_rate = rule.learning_rate


class RpropOptimizer:
    """iRprop-, PyTorch's ``torch.optim.Rprop`` step (see cpp/fastnn/optimizers.hpp): per
    parameter steps that start at ``learning_rate_init`` and adapt to the gradient's sign."""

    def __init__(self, n_params, dtype, learning_rate_init):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.schedule_epoch = 0
        self.plateau_rate = float(learning_rate_init)
        self.previous = np.zeros(n_params, dtype=dtype)
        self.step = np.full(n_params, learning_rate_init, dtype=dtype)

    def run_epochs(self, trainer, params, X, Y, sample_weight, order, key, pos, rule, losses,
                   apply_rule):
        """``trainer.run_epochs_rprop`` with this state; returns (epochs run, interrupted)."""
        self.previous = _writable(self.previous, params.dtype)
        self.step = _writable(self.step, params.dtype)
        return trainer.run_epochs_rprop(params, self.previous, self.step, X, Y, sample_weight,
                                        order, key, pos, rule, losses, apply_rule)
