"""The state that lets training continue bit for bit, as JSON values and numeric arrays.

``fastnn.save`` (format version 2) writes it with the model, and ``fastnn.load`` checks and
restores it: the optimizer (SGD's velocity, its current learning rate, Adam's moments and step
count, the ``lr_schedule``'s epoch and plateau rate) and the random generators (a
``random_state`` parameter that is a ``numpy.random.RandomState``; in a checkpoint, the fit's
own generator). A checkpoint written during a fit (``fastnn.callbacks.Checkpoint``) also holds
the fit's :class:`~fastnn._fitted_state.FitProgress`. Each ``*_state`` function returns
``(json, arrays)`` with array names under a prefix; each ``*_from`` function checks what it
reads and raises ``ValueError`` naming what is wrong.
"""

import math

import numpy as np

from fastnn._optimizers import (
    AdamOptimizer,
    AdamWOptimizer,
    RMSpropOptimizer,
    RpropOptimizer,
    SGDOptimizer,
)

__all__ = [
    "generator_from",
    "generator_state",
    "optimizer_from",
    "optimizer_state",
]

_FLOATS = ("float32", "float64")
_SGD_SCHEDULES = ("constant", "invscaling", "adaptive")
# Per kind: the optimizer class, its float scalars, its other entries, its arrays (attribute,
# entry name). Every kind also has schedule_epoch and plateau_rate.
_KINDS = {
    "sgd": (SGDOptimizer, ("learning_rate_init", "learning_rate", "momentum", "power_t"),
            ("lr_schedule", "nesterov"), (("velocity", "optimizer_velocity"),)),
    "adam": (AdamOptimizer, ("learning_rate_init", "learning_rate", "beta_1", "beta_2",
                             "epsilon"), ("t",), (("ms", "optimizer_m"), ("vs", "optimizer_v"))),
    "adamw": (AdamWOptimizer, ("learning_rate_init", "learning_rate", "beta_1", "beta_2",
                               "epsilon", "decay"), ("t",),
              (("ms", "optimizer_m"), ("vs", "optimizer_v"))),
    "rprop": (RpropOptimizer, ("learning_rate_init", "learning_rate"), (),
              (("previous", "optimizer_previous"), ("step", "optimizer_step"))),
    "rmsprop": (RMSpropOptimizer, ("learning_rate_init", "learning_rate", "rho", "epsilon"), (),
                (("vs", "optimizer_v"),)),
}


def _finite(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _count(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def _vector(arrays, name, n, dtype=None):
    a = arrays.pop(name, None)
    if a is None or a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{name} must be a vector of {n} entries")
    if dtype is not None and a.dtype != dtype:
        raise ValueError(f"{name} must have dtype {dtype}, got {a.dtype}")
    return np.array(a)  # owned and writable: the core updates it in place


# ------------------------------------------------------------------------------ optimizer
def optimizer_state(optimizer):
    """An optimizer's state (fastnn._optimizers); arrays named ``optimizer_*``."""
    kind = next(k for k, spec in _KINDS.items() if type(optimizer) is spec[0])
    _, scalars, others, arrays = _KINDS[kind]
    state = {"kind": kind, "schedule_epoch": int(getattr(optimizer, "schedule_epoch", 0)),
             "plateau_rate": float(getattr(optimizer, "plateau_rate",
                                           optimizer.learning_rate_init))}
    state.update({k: float(getattr(optimizer, k)) for k in scalars})
    if kind == "sgd":
        state.update(lr_schedule=optimizer.lr_schedule, nesterov=bool(optimizer.nesterov))
    elif "t" in others:
        state["t"] = int(optimizer.t)
    return state, {name: np.array(getattr(optimizer, attr)) for attr, name in arrays}


def optimizer_from(state, arrays, n_params):
    """The optimizer ``optimizer_state`` described, for ``n_params`` parameters. Takes its
    arrays out of ``arrays``."""
    if not isinstance(state, dict) or state.get("kind") not in _KINDS:
        raise ValueError("optimizer is malformed")
    cls, names, others, array_names = _KINDS[state["kind"]]
    expected = {"kind", "schedule_epoch", "plateau_rate", *names, *others}
    if set(state) != expected:
        raise ValueError(f"optimizer has entries {sorted(state)}, expected {sorted(expected)}")
    s = {k: _finite(state[k], f"optimizer {k}") for k in (*names, "plateau_rate")}
    first = arrays.get(array_names[0][1])
    dtype = None if first is None else first.dtype
    if dtype is None or dtype.name not in _FLOATS:
        raise ValueError("the optimizer's arrays must be float32 or float64")
    if cls is SGDOptimizer:
        if state["lr_schedule"] not in _SGD_SCHEDULES or not isinstance(state["nesterov"], bool):
            raise ValueError("optimizer lr_schedule or nesterov is malformed")
        optimizer = cls(n_params, dtype, s["learning_rate_init"], state["lr_schedule"],
                        s["momentum"], state["nesterov"], s["power_t"])
    elif cls is RpropOptimizer:
        optimizer = cls(n_params, dtype, s["learning_rate_init"])
    elif cls is RMSpropOptimizer:
        optimizer = cls(n_params, dtype, s["learning_rate_init"], s["rho"], s["epsilon"])
    else:
        extra = (s["decay"],) if cls is AdamWOptimizer else ()
        optimizer = cls(n_params, dtype, s["learning_rate_init"], s["beta_1"], s["beta_2"],
                        s["epsilon"], *extra)
        optimizer._t[0] = _count(state["t"], "optimizer t")
    for attr, name in array_names:
        setattr(optimizer, attr, _vector(arrays, name, n_params, dtype))
    optimizer.learning_rate = s["learning_rate"]
    optimizer.plateau_rate = s["plateau_rate"]
    optimizer.schedule_epoch = _count(state["schedule_epoch"], "optimizer schedule_epoch")
    return optimizer


# ------------------------------------------------------------------------------ generators
def generator_state(random_state, prefix):
    """A ``numpy.random.RandomState``'s state (over MT19937, numpy's default, or PCG64);
    its MT19937 key is the array ``{prefix}_key``."""
    state = random_state.get_state(legacy=False)
    name = state["bit_generator"]
    common = {"bit_generator": name, "has_gauss": int(state["has_gauss"]),
              "gauss": float(state["gauss"])}
    if name == "MT19937":
        return ({**common, "pos": int(state["state"]["pos"])},
                {f"{prefix}_key": np.array(state["state"]["key"], dtype=np.uint32)})
    if name == "PCG64":
        inner = state["state"]
        return ({**common, "state": str(inner["state"]), "inc": str(inner["inc"]),
                 "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])},
                {})
    raise ValueError(f"cannot save a RandomState over {name}: MT19937 and PCG64 only.")


def generator_from(state, arrays, prefix):
    """The RandomState ``generator_state`` described. Takes its arrays out of ``arrays``."""
    if not isinstance(state, dict) or state.get("bit_generator") not in ("MT19937", "PCG64"):
        raise ValueError(f"{prefix} generator is malformed")
    if state.get("has_gauss") not in (0, 1):
        raise ValueError(f"{prefix} generator's has_gauss is malformed")
    gauss = _finite(state.get("gauss"), f"{prefix} gauss")
    if state["bit_generator"] == "MT19937":
        if set(state) != {"bit_generator", "has_gauss", "gauss", "pos"}:
            raise ValueError(f"{prefix} generator is malformed")
        key = _vector(arrays, f"{prefix}_key", 624, np.dtype(np.uint32))
        pos = _count(state["pos"], f"{prefix} pos")
        if pos > 624:
            raise ValueError(f"{prefix} pos must be <= 624, got {pos}")
        generator = np.random.RandomState()
        generator.set_state(("MT19937", key, pos, state["has_gauss"], gauss))
        return generator
    if set(state) != {"bit_generator", "has_gauss", "gauss", "state", "inc", "has_uint32",
                      "uinteger"}:
        raise ValueError(f"{prefix} generator is malformed")
    try:
        inner = {"state": int(state["state"]), "inc": int(state["inc"])}
    except (TypeError, ValueError):
        raise ValueError(f"{prefix} generator's PCG64 state is malformed") from None
    if not all(0 <= v < 2**128 for v in inner.values()) or state["has_uint32"] not in (0, 1):
        raise ValueError(f"{prefix} generator's PCG64 state is malformed")
    generator = np.random.RandomState(np.random.PCG64())
    generator.set_state({"bit_generator": "PCG64", "state": inner,
                         "has_uint32": state["has_uint32"],
                         "uinteger": _count(state["uinteger"], f"{prefix} uinteger"),
                         "has_gauss": state["has_gauss"], "gauss": gauss})
    return generator
