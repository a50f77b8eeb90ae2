"""``lr_schedule`` and ``warmup_epochs``: what the core's epoch rule is told.

The schedules themselves live in the core's ``EpochRule`` (cpp/fastnn/epoch_rule.hpp), next to
scikit-learn's ``learning_rate`` schedules; this module checks the parameters against
``learning_rate``, names the rule's schedule, carries its state between ``partial_fit`` calls
(on the optimizer, with the rest of the optimizer state) and asks a callable ``lr_schedule``
for each epoch's factor.
"""

import math
from numbers import Real

__all__ = ["epoch_factor", "rule_schedule"]


def rule_schedule(model, optimizer, sgd):
    """The EpochRule's schedule arguments for a stochastic fit of ``model``."""
    schedule = model.lr_schedule
    if model.solver == "rprop" and (schedule is not None or model.warmup_epochs):
        raise ValueError("lr_schedule and warmup_epochs do not apply to solver='rprop', whose "
                         "steps adapt to the gradient's sign.")
    if sgd and (schedule is not None or model.warmup_epochs) and model.learning_rate != "constant":
        raise ValueError(
            "lr_schedule and warmup_epochs replace learning_rate's schedule: use "
            "learning_rate='constant' with them (got learning_rate=%r)." % model.learning_rate
        )
    if schedule is None:
        name = optimizer.lr_schedule if sgd else "constant"
    else:
        name = "given" if callable(schedule) else schedule
    return dict(
        schedule=name,
        learning_rate=float(optimizer.learning_rate if sgd else model.learning_rate_init),
        warmup_epochs=int(model.warmup_epochs),
        horizon=int(model.max_iter),
        plateau_rate=float(getattr(optimizer, "plateau_rate", model.learning_rate_init)),
        epoch=int(getattr(optimizer, "schedule_epoch", 0)),
    )


def epoch_factor(lr_schedule, epoch):
    """A callable ``lr_schedule``'s factor for ``epoch`` (0-based, counted from the fit's
    start), checked: a finite real >= 0."""
    factor = lr_schedule(epoch)
    if (not isinstance(factor, Real) or isinstance(factor, bool) or not math.isfinite(factor)
            or factor < 0):
        raise ValueError(
            f"lr_schedule({epoch}) returned {factor!r}: it must return a finite real >= 0 "
            "(the factor of learning_rate_init for that epoch)."
        )
    return float(factor)
