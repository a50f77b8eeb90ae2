"""Callbacks for fastnn's fits (scikit-learn's callback API, ``sklearn.callback``).

:class:`Checkpoint` saves a stochastic fit every few epochs, durably, and :func:`resume`
continues a fit from its last checkpoint -- after a crash, a kill or a power cut -- to the model
the uninterrupted fit would have made, bit for bit.

Example::

    from fastnn import MLPClassifier
    from fastnn.callbacks import Checkpoint, resume

    model = MLPClassifier(max_iter=200, random_state=0)
    model.set_callbacks(Checkpoint("fit.ckpt", every=5))
    model.fit(X, y)                     # killed during epoch 123: fit.ckpt holds epoch 120
    model = resume("fit.ckpt", X, y)    # epochs 121 to 200: the uninterrupted fit's model
"""

import os
from numbers import Integral

from sklearn.utils import check_scalar

from fastnn import _persist

__all__ = ["Checkpoint", "resume"]


class Checkpoint:
    """Save a stochastic fit (``solver='sgd'`` or ``'adam'``) every ``every`` epochs.

    A scikit-learn fit callback (``model.set_callbacks(Checkpoint(path))``; scikit-learn's
    callback API, scikit-learn >= 1.9). After every
    ``every``-th epoch it writes the whole state of the fit to ``path``: the model, the
    optimizer, the random generators, the epochs' shuffled order, early stopping's split and
    best weights. When the fit ends it writes the fitted model there (``fastnn.load`` reads
    it). Each write is durable: a temporary file in the same directory, flushed to disk
    (fsync), renamed over ``path``, and the directory flushed, so ``path`` always holds a
    complete checkpoint, the previous one until the new one is on disk.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file.
    every : int, default=1
        Epochs between two checkpoints.

    See Also
    --------
    resume : continue the fit a checkpoint was written by.
    """

    def __init__(self, path, every=1):
        self.path = os.fspath(path)
        self.every = check_scalar(every, "every", Integral, min_val=1)

    def setup(self, estimator, context):
        """Nothing to set up: each checkpoint is written when its epoch ends."""

    def teardown(self, estimator, context):
        """Nothing to tear down."""

    def on_fit_task_begin(self, estimator, context, **kwargs):
        """Nothing happens when a task begins."""

    def on_fit_task_end(self, estimator, context, **kwargs):
        """After every ``every``-th epoch, the fit's state; after the fit, the fitted model."""
        progress = getattr(estimator, "_fit_progress", None)
        if context.task_name == "epoch":
            if progress is not None and estimator.n_iter_ % self.every == 0:
                _persist.save_checkpoint(estimator, self.path, progress, self.every)
        elif context.task_name in ("fit", "partial_fit"):
            _persist.save(estimator, self.path)
        return False


def resume(path, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
    """Continue the fit that wrote the checkpoint ``path``, on the same data.

    The fit goes on from the checkpoint's epoch with the checkpoint's model, optimizer, random
    generators and row order, to the model the uninterrupted fit would have made, bit for bit
    (the same weights, ``loss_curve_``, ``n_iter_``, ...). A :class:`Checkpoint` with the same
    ``path`` and ``every`` goes on saving it. A checkpoint written at the end of a fit holds
    the fitted model: it is returned as it is.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :class:`Checkpoint`.
    X, y, sample_weight, X_val, y_val, sample_weight_val
        The arguments the interrupted ``fit`` was given.

    Returns
    -------
    model : fastnn.MLPClassifier or fastnn.MLPRegressor
        The fitted model.

    Raises
    ------
    ValueError
        If ``path`` is not a valid checkpoint, or X, y or sample_weight are not the data the
        interrupted fit was training on.
    """
    model, progress, every = _persist.load_checkpoint(path)
    if progress is None:  # the fit had ended
        return model
    if hasattr(model, "set_callbacks"):  # scikit-learn >= 1.9: checkpointing goes on
        model.set_callbacks(Checkpoint(path, every=every))
    return model._resume(progress, X, y, sample_weight,
                         (X_val, y_val, sample_weight_val))
