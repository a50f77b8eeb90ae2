"""Safe persistence: a fitted model as numeric arrays and JSON, never as a pickle.

``pickle`` / ``joblib`` files run code when they are loaded: a model file from elsewhere is a
program. :func:`save` writes a ``.npz`` archive (numpy's uncompressed zip of ``.npy`` files)
holding only numeric and unicode arrays plus one ``metadata`` entry: UTF-8 JSON, stored as a
``uint8`` array. :func:`load` reads it with ``allow_pickle=False``, checks every value, and
builds the estimator from the checked values only; a file that fails any check raises
``ValueError``.

Entries of format version 2 (version 1, without the optimizer and generator entries, is read
too):

``metadata``
    ``{"format": "fastnn-mlp", "version": 1, "estimator": "MLPClassifier" | "MLPRegressor",
    "params": get_params() as JSON, "fitted": {scalar fitted attributes}, ...}``.
``coefs_0`` ... ``coefs_{L-1}``, ``intercepts_0`` ... ``intercepts_{L-1}``
    The weights, float32 or float64 (all of one dtype).
``classes_`` (classifiers)
    The labels: bool, integer, float, or fixed-width bytes / unicode strings.
``loss_curve_``, ``validation_scores_``, ``validation_loss_curve_`` (where the model has them)
    float64 vectors (their items' type, np.float64, np.float32 or float, in the header).
``optimizer_*``, ``random_state_key`` (version 2)
    The optimizer's arrays and a RandomState ``random_state``'s MT19937 key, with their
    scalars in the metadata's ``optimizer`` and ``random_state`` (``fastnn._resumable``).
``fit_*``, ``split_*``, ``best_coefs_*``, ``best_intercepts_*`` (checkpoints written during a
fit)
    The fit in progress (``FitProgress``): its generator's key, the rows' order, early
    stopping's split and best weights, with the rest in the metadata's ``in_fit``.
"""

import io
import json
import math
import numbers
import os
import struct
import tempfile
import tokenize
import warnings
import zipfile

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from fastnn._core import __version__
from fastnn._fitted_state import (
    COUNTERS,
    MAY_BE_NONE,
    OPTIONAL_LISTS,
    OPTIONAL_SCALARS,
    FitProgress,
)
from fastnn._mlp import BaseMultilayerPerceptron, MLPClassifier, MLPRegressor
from fastnn._resumable import generator_from, generator_state, optimizer_from, optimizer_state
from fastnn._spec import OUTPUT_ACTIVATIONS, network_params, output_activation

__all__ = ["load", "load_checkpoint", "save", "save_checkpoint"]

FORMAT_NAME = "fastnn-mlp"
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)

_WEIGHT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_CLASS_KINDS = set("biufSU")  # bool, integers, floats, bytes, unicode: never object
_Y_TYPES = {"binary", "multiclass", "multilabel-indicator"}
_ESTIMATORS = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}
_MAX_LAYERS = 10_000  # far beyond any real network; bounds the entries a file may hold


class _InvalidFile(Exception):
    """A check failed; ``load`` reports it as a ValueError naming the file."""


# --------------------------------------------------------------------- JSON values
def _encode(value, name):
    """A parameter value as JSON: tuples, mappings, numpy arrays and non-finite floats tagged."""
    if value is None or isinstance(value, (bool, np.bool_, str)):
        return bool(value) if isinstance(value, np.bool_) else value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, name) for v in value]}
    if isinstance(value, list):
        return [_encode(v, name) for v in value]
    if isinstance(value, dict):  # class_weight: keys are labels, not only strings
        return {"__dict__": [[_encode(k, name), _encode(v, name)] for k, v in value.items()]}
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "biuf":
        return {"__ndarray__": [_encode(v, name) for v in value.tolist()],
                "dtype": value.dtype.str}
    raise ValueError(f"cannot save parameter {name}={value!r}: not a JSON-safe value.")


def _decode(value, name):
    """The inverse of ``_encode``, accepting only what ``_encode`` writes."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode(v, name) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__float__"} and value["__float__"] in ("inf", "-inf", "nan"):
            return float(value["__float__"])
        if set(value) == {"__dict__"} and isinstance(value["__dict__"], list):
            pairs = [_decode(pair, name) for pair in value["__dict__"]]
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise _InvalidFile(f"parameter {name} holds a malformed mapping")
            try:
                return {key: v for key, v in pairs}
            except TypeError:  # an unhashable key
                raise _InvalidFile(f"parameter {name} has an unhashable key") from None
        if set(value) == {"__tuple__"} and isinstance(value["__tuple__"], list):
            return tuple(_decode(v, name) for v in value["__tuple__"])
        if set(value) == {"__ndarray__", "dtype"} and isinstance(value["__ndarray__"], list):
            dtype = np.dtype(_expect(value["dtype"], str, name + " dtype"))
            if dtype.kind not in "biuf":
                raise _InvalidFile(f"parameter {name} has array dtype {dtype}")
            items = [_decode(v, name) for v in value["__ndarray__"]]
            if not all(isinstance(v, (bool, int, float)) for v in items):
                raise _InvalidFile(f"parameter {name} holds a non-numeric array")
            return np.array(items, dtype=dtype)
    raise _InvalidFile(f"parameter {name} has an unreadable value {value!r}")


def _expect(value, kind, name, minimum=None):
    """``value`` if it is a ``kind`` (bools are not ints), else an invalid-file error."""
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        raise _InvalidFile(f"{name} must be a {kind.__name__}, got {value!r}")
    if minimum is not None and value < minimum:
        raise _InvalidFile(f"{name} must be >= {minimum}, got {value!r}")
    return float(value) if kind is float else value


# The types a fitted float may have (loss_ is np.float32 where scikit-learn's is: see
# NetworkSpec.loss_type), by the name a file gives them; a value round-trips exactly through
# its float64 form.
_FLOAT_TYPES = {"float64": np.float64, "float32": np.float32, "float": float}


def _float_type_name(value):
    if isinstance(value, np.float32):
        return "float32"
    return "float64" if isinstance(value, np.floating) else "float"


def _scalar_to_json(value):
    """A fitted float (np.float64, np.float32 or float, possibly inf / nan) as JSON with its
    type."""
    return {"type": _float_type_name(value), "value": _encode(float(value), "scalar")}


def _scalar_from_json(entry, name):
    if not isinstance(entry, dict) or set(entry) != {"type", "value"}:
        raise _InvalidFile(f"{name} is malformed")
    value = _decode(entry["value"], name)
    if not isinstance(value, float) and not (isinstance(value, int)
                                             and not isinstance(value, bool)):
        raise _InvalidFile(f"{name} must be a number, got {value!r}")
    if entry["type"] not in _FLOAT_TYPES:
        raise _InvalidFile(f"{name} has unknown type {entry['type']!r}")
    return _FLOAT_TYPES[entry["type"]](value)


# ------------------------------------------------------------------------- saving
def save(model, path):
    """Save a fitted fastnn estimator to ``path`` as a pickle-free ``.npz`` file.

    Parameters
    ----------
    model : fastnn.MLPClassifier or fastnn.MLPRegressor
        A fitted estimator with finite weights.
    path : str or os.PathLike
        The file to write (no extension is added). It is written to a temporary file in the
        same directory first and then renamed over ``path``, so an interrupted save never
        leaves a truncated model behind.

    Raises
    ------
    TypeError
        If ``model`` is not a fastnn MLP estimator.
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    ValueError
        If a parameter cannot be written as JSON, or the model's state is one :func:`load`
        would reject (non-finite weights, inconsistent shapes, object labels that are not
        strings, ...).

    Notes
    -----
    Saved: every ``get_params()`` value and the fitted attributes ``n_features_in_``,
    ``feature_names_in_``, ``classes_`` (and the label binarizer's state), ``n_outputs_``,
    ``n_layers_``, ``out_activation_``, ``coefs_``, ``intercepts_``, ``n_iter_``, ``t_``,
    ``loss_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
    ``validation_loss_curve_`` and ``best_validation_score_`` where the model has them; and
    (format version 2) the optimizer state -- SGD's velocity and current learning rate, Adam's
    moments and step count, the ``lr_schedule``'s epoch and rate -- and a ``random_state``
    that is a ``numpy.random.RandomState`` (over MT19937 or PCG64) with its generator's
    state. ``partial_fit`` or a ``warm_start`` fit of the loaded model continue bit for bit as
    those of the model that was saved. The file is written to a temporary file, flushed to
    disk, renamed over ``path`` and the directory flushed: ``path`` holds either the old file
    or the new one, whole, even after a crash or a power cut.
    """
    save_checkpoint(model, path)


def save_checkpoint(model, path, progress=None, every=None):
    """``save``, and for a checkpoint written during a fit (``fastnn.callbacks.Checkpoint``),
    the fit's progress (FitProgress) and the checkpoint's period ``every``."""
    if not isinstance(model, BaseMultilayerPerceptron):
        raise TypeError("save expects a fastnn MLPClassifier or MLPRegressor, got %s."
                        % type(model).__name__)
    check_is_fitted(model)
    metadata, arrays = _state(model, progress, every)
    try:  # never write a file load would reject (checked as load will read it)
        _build(json.loads(json.dumps(metadata, allow_nan=False)), arrays)
    except _InvalidFile as exc:
        raise ValueError(f"cannot save this model: {exc}.") from None
    arrays["metadata"] = np.frombuffer(
        json.dumps(metadata, allow_nan=False).encode("utf-8"), dtype=np.uint8)

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fastnn-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Flush the directory entry of a renamed file to disk (POSIX; not possible on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_npz(f, arrays):
    """``arrays`` as the entries of an uncompressed ``.npz`` archive written to ``f``, each with
    ``allow_pickle=False``: what ``np.savez(f, allow_pickle=False, **arrays)`` writes on numpy
    >= 2.1 -- where older numpy would store the keyword itself as an array named
    ``allow_pickle``, which ``load`` rightly rejects."""
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, value in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(value), allow_pickle=False)


def _state(model, progress=None, every=None):
    """(metadata, arrays) describing ``model`` (and a fit in progress)."""
    params = {}
    extra = {}
    arrays = {}
    for name, value in model.get_params(deep=False).items():
        if name == "random_state" and isinstance(value, np.random.RandomState):
            # a generator: its state, apart from the JSON-only parameters
            extra["random_state"], more = generator_state(value, "random_state")
            arrays.update(more)
            value = None
        params[name] = _encode(value, name)
    optimizer = getattr(model, "_optimizer", None)
    if optimizer is not None and model.solver != "lbfgs":
        extra["optimizer"], more = optimizer_state(optimizer)
        arrays.update(more)
    if progress is not None:
        extra["in_fit"], more = _progress_state(model, progress, every)
        arrays.update(more)

    fitted = {name: int(getattr(model, name)) for name in COUNTERS}
    fitted["out_activation_"] = str(model.out_activation_)
    if hasattr(model, "_no_improvement_count"):  # stochastic solvers' stopping counter
        fitted["_no_improvement_count"] = int(model._no_improvement_count)
    if hasattr(model, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(n) for n in model.feature_names_in_]
    for i, (c, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        arrays[f"coefs_{i}"] = np.array(c, copy=True, subok=False)
        arrays[f"intercepts_{i}"] = np.array(b, copy=True, subok=False)
    fitted["n_coefs"] = len(model.coefs_)
    fitted["n_intercepts"] = len(model.intercepts_)

    none = []
    for name in OPTIONAL_SCALARS:
        if hasattr(model, name):
            value = getattr(model, name)
            if value is None:
                none.append(name)
            else:
                fitted[name] = _scalar_to_json(value)
    list_types = {}
    for name in OPTIONAL_LISTS:
        if hasattr(model, name):
            value = getattr(model, name)
            if value is None:
                none.append(name)
                continue
            arrays[name] = np.asarray(value, dtype=np.float64).reshape(-1)
            types = {_float_type_name(v) for v in value}
            list_types[name] = types.pop() if len(types) == 1 else "float64"
    fitted["none"] = none
    fitted["list_types"] = list_types

    if is_classifier(model):
        binarizer = model._label_binarizer
        classes = np.asarray(model.classes_)
        fitted["classes_object"] = classes.dtype == object
        if classes.dtype == object:
            if not all(isinstance(c, str) for c in classes):
                raise ValueError("cannot save classes_ of dtype object that are not all "
                                 "strings: %r." % (classes,))
            classes = classes.astype(str)
        arrays["classes_"] = classes
        fitted["label_binarizer"] = {
            "y_type_": str(binarizer.y_type_),
            "sparse_input_": bool(getattr(binarizer, "sparse_input_", False)),
            "sparse_output": bool(binarizer.sparse_output),
            "neg_label": _encode(binarizer.neg_label, "neg_label"),
            "pos_label": _encode(binarizer.pos_label, "pos_label"),
        }

    metadata = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "estimator": type(model).__name__,
        "fastnn_version": __version__,
        "params": params,
        "fitted": fitted,
        **extra,
    }
    return metadata, arrays


def _progress_state(model, progress, every):
    """A fit in progress as (JSON, arrays): see FitProgress."""
    state, arrays = generator_state(progress.generator, "fit_generator")
    in_fit = {
        "every": int(every), "stopped": bool(progress.stopped),
        "model_dtype": progress.model_dtype.name, "digest": progress.digest,
        "dropout_seed": progress.dropout_seed, "generator": state,
        "order": progress.order is not None, "split": progress.split is not None,
        "best": bool(model.early_stopping),
    }
    if progress.order is not None:
        arrays["fit_order"] = np.array(progress.order, dtype=np.int64)
    if progress.split is not None:
        arrays["split_train"], arrays["split_val"] = (np.asarray(s, dtype=np.int64)
                                                      for s in progress.split)
    if model.early_stopping:
        for i, (c, b) in enumerate(zip(model._best_coefs, model._best_intercepts)):
            arrays[f"best_coefs_{i}"] = np.array(c, copy=True, subok=False)
            arrays[f"best_intercepts_{i}"] = np.array(b, copy=True, subok=False)
    return in_fit, arrays


# ------------------------------------------------------------------------- loading
def load(path):
    """Load a model written by :func:`save`.

    Nothing in the file is executed: it is read as a zip of ``.npy`` arrays with
    ``allow_pickle=False``, and every value is checked before the estimator is built (format
    name and version, estimator class, parameters through the estimator's own validation,
    weight dtypes, shapes and finiteness, consistency of the layers with ``n_features_in_``,
    ``n_outputs_``, ``n_layers_``, ``out_activation_`` and ``classes_``).

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    model : fastnn.MLPClassifier or fastnn.MLPRegressor
        The fitted estimator. It predicts bitwise what the saved model predicted.
        ``partial_fit`` and ``warm_start`` fits continue bit for bit as the saved model's
        would (format 2 keeps the optimizer state; a version-1 file's model starts a fresh
        optimizer from the saved weights).

    Raises
    ------
    FileNotFoundError, PermissionError, IsADirectoryError
        If ``path`` cannot be opened.
    ValueError
        If the file is not a valid fastnn model file: not a zip, a zip without the expected
        entries, corrupt or truncated, unreadable JSON, a value of the wrong type, or a model
        failing any check. The message says which.
    """
    with open(path, "rb") as f:  # a missing or unreadable file is the caller's OSError
        blob = f.read()
    return _load(path, blob)[0]


def load_checkpoint(path):
    """(model, progress, every): a file written by ``fastnn.callbacks.Checkpoint``; progress
    and every are None for a checkpoint written at the end of a fit (or a ``save``d model)."""
    with open(path, "rb") as f:
        blob = f.read()
    return _load(path, blob)


def _load(path, blob):
    try:
        entries = _read_entries(blob)
        return _build(_metadata(entries.pop("metadata", None)), entries)
    except _InvalidFile as exc:
        raise ValueError(f"{os.fspath(path)} is not a valid fastnn model file: {exc}.") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError,
            IndexError, TypeError, ValueError, OverflowError, struct.error,
            NotImplementedError, RuntimeError) as exc:
        # a damaged archive, as zipfile / numpy's .npy reader see it (zipfile raises
        # NotImplementedError for unknown compression, RuntimeError for encryption)
        raise ValueError(f"{os.fspath(path)} is not a valid fastnn model file: "
                         f"{type(exc).__name__}: {exc}") from exc


def _read_entries(blob):
    """The archive's arrays by name, each checked against the bytes it actually occupies
    before it is read (a header declaring a huge shape allocates nothing)."""
    entries = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        infos = archive.infolist()
        if len(infos) > 2 * _MAX_LAYERS + 8:
            raise _InvalidFile(f"{len(infos)} entries")
        for info in infos:
            if not info.filename.endswith(".npy") or info.filename[:-4] in entries:
                raise _InvalidFile(f"unexpected entry {info.filename!r}")
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(blob):
                raise _InvalidFile(f"entry {info.filename!r} is compressed or oversized")
            data = archive.read(info)  # checks the CRC: flipped bytes are caught here
            entries[info.filename[:-4]] = _read_npy(data, info.filename)
    return entries


def _read_npy(data, name):
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version not in ((1, 0), (2, 0)):
        raise _InvalidFile(f"entry {name!r} has .npy version {version}")
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            shape, fortran_order, dtype = read_header(f)
    except (tokenize.TokenError, SyntaxError, Warning) as exc:
        # numpy re-tokenizes a header it cannot evaluate (Python 2's format, with a warning):
        # never what save writes, and a corrupt header can fail there with tokenize's error
        raise _InvalidFile(f"entry {name!r} has an unreadable header ({exc!r})") from None
    if any(d < 0 for d in shape):
        raise _InvalidFile(f"entry {name!r} has shape {shape}")
    if dtype.hasobject or dtype.kind not in "biufSU" or dtype.fields is not None:
        raise _InvalidFile(f"entry {name!r} has dtype {dtype}")
    if len(shape) > 2:
        raise _InvalidFile(f"entry {name!r} has {len(shape)} dimensions")
    if math.prod(shape) * dtype.itemsize > len(data) - f.tell():
        raise _InvalidFile(f"entry {name!r} is truncated")
    f.seek(0)
    return np.lib.format.read_array(f, allow_pickle=False)


def _metadata(entry):
    if entry is None:
        raise _InvalidFile("no metadata entry")
    if entry.dtype != np.uint8 or entry.ndim != 1:
        raise _InvalidFile("the metadata entry is not a uint8 vector")

    def no_constants(name):  # JSON has no NaN / Infinity; _encode tags them
        raise _InvalidFile(f"metadata holds {name}")

    try:
        metadata = json.loads(entry.tobytes().decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _InvalidFile(f"unreadable metadata ({exc})") from None
    if not isinstance(metadata, dict):
        raise _InvalidFile("metadata is not a JSON object")
    if metadata.get("format") != FORMAT_NAME:
        raise _InvalidFile(f"format is {metadata.get('format')!r}, not {FORMAT_NAME!r}")
    if (metadata.get("version") not in _READABLE_VERSIONS
            or isinstance(metadata.get("version"), bool)):
        raise _InvalidFile(f"format version {metadata.get('version')!r} is not supported "
                           f"(this fastnn reads versions {_READABLE_VERSIONS})")
    if metadata["version"] == 1 and {"optimizer", "random_state", "in_fit"} & set(metadata):
        raise _InvalidFile("a version 1 file with version 2 entries")
    return metadata


def _build(metadata, arrays):
    """(model, progress, every): the estimator ``metadata`` and ``arrays`` describe, after
    checking every value, and the fit in progress a checkpoint holds (else None, None)."""
    arrays = dict(arrays)
    name = metadata.get("estimator")
    if not isinstance(name, str) or name not in _ESTIMATORS:
        raise _InvalidFile(f"estimator {name!r} is not one of {sorted(_ESTIMATORS)}")
    Estimator = _ESTIMATORS[name]
    classifier = name == "MLPClassifier"

    # parameters: the estimator's own validation
    params = metadata.get("params")
    if not isinstance(params, dict):
        raise _InvalidFile("params is not a JSON object")
    known = Estimator().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise _InvalidFile(f"unknown parameters {unknown} for {name}")
    model = Estimator(**{k: _decode(v, k) for k, v in params.items()})
    try:
        model._validate_params()
        hidden = network_params(model)[0]
    except ValueError as exc:
        raise _InvalidFile(f"invalid parameters: {exc}") from None

    fitted = metadata.get("fitted")
    if not isinstance(fitted, dict):
        raise _InvalidFile("fitted is not a JSON object")
    n_layers = _expect(fitted.get("n_layers_"), int, "n_layers_", 2)
    if n_layers > _MAX_LAYERS:
        raise _InvalidFile(f"n_layers_ is {n_layers}")
    n_features = _expect(fitted.get("n_features_in_"), int, "n_features_in_", 1)
    n_outputs = _expect(fitted.get("n_outputs_"), int, "n_outputs_", 1)
    if fitted.get("n_coefs") != n_layers - 1 or fitted.get("n_intercepts") != n_layers - 1:
        raise _InvalidFile(f"n_layers_ is {n_layers} but the file lists "
                           f"{fitted.get('n_coefs')!r} coefs_ and "
                           f"{fitted.get('n_intercepts')!r} intercepts_")

    # the weights
    coefs = [arrays.pop(f"coefs_{i}", None) for i in range(n_layers - 1)]
    intercepts = [arrays.pop(f"intercepts_{i}", None) for i in range(n_layers - 1)]
    for i, (c, b) in enumerate(zip(coefs, intercepts)):
        if c is None or b is None:
            raise _InvalidFile(f"layer {i}'s coefs_ or intercepts_ is missing")
        if c.dtype not in _WEIGHT_DTYPES or b.dtype != c.dtype or c.dtype != coefs[0].dtype:
            raise _InvalidFile(f"layer {i}'s weights have dtype {c.dtype} / {b.dtype} "
                               f"(float32 or float64 only, one dtype for all)")
        if c.ndim != 2 or 0 in c.shape:
            raise _InvalidFile(f"coefs_[{i}] has shape {c.shape}, not a non-empty 2-D array")
        if b.shape != (c.shape[1],):
            raise _InvalidFile(f"intercepts_[{i}] has shape {b.shape}, expected "
                               f"({c.shape[1]},)")
        if i and c.shape[0] != coefs[i - 1].shape[1]:
            raise _InvalidFile(f"coefs_[{i}] has {c.shape[0]} rows but coefs_[{i - 1}] has "
                               f"{coefs[i - 1].shape[1]} columns")
        if not (np.isfinite(c).all() and np.isfinite(b).all()):
            raise _InvalidFile(f"layer {i}'s weights are not all finite")
    if coefs[0].shape[0] != n_features:
        raise _InvalidFile(f"n_features_in_ is {n_features} but coefs_[0] has "
                           f"{coefs[0].shape[0]} rows")
    if coefs[-1].shape[1] != n_outputs:
        raise _InvalidFile(f"n_outputs_ is {n_outputs} but coefs_[-1] has "
                           f"{coefs[-1].shape[1]} columns")
    widths = [c.shape[1] for c in coefs[:-1]]
    if widths != hidden:
        raise _InvalidFile(f"the hidden layers have widths {widths} but hidden_layer_sizes "
                           f"is {model.hidden_layer_sizes!r}")

    # the output activation the estimator would have chosen
    out_activation = fitted.get("out_activation_")
    if out_activation not in OUTPUT_ACTIVATIONS:
        raise _InvalidFile(f"out_activation_ {out_activation!r} is unknown")
    binarizer = None
    if classifier:
        binarizer = _label_binarizer(fitted, arrays.pop("classes_", None), n_outputs)
    expected = output_activation(classifier, model.loss, binarizer and binarizer.y_type_)
    if out_activation != expected:
        raise _InvalidFile(f"out_activation_ is {out_activation!r}; this {name} "
                           f"(loss={model.loss!r}) has {expected!r}")

    # training bookkeeping
    n_iter = _expect(fitted.get("n_iter_"), int, "n_iter_", 0)
    t = _expect(fitted.get("t_"), int, "t_", 0)
    no_improvement = None
    if "_no_improvement_count" in fitted:
        no_improvement = _expect(fitted["_no_improvement_count"], int,
                                 "_no_improvement_count", 0)
    none = fitted.get("none")
    if not isinstance(none, list) or not set(none) <= MAY_BE_NONE:
        raise _InvalidFile(f"none lists {none!r}")
    list_types = fitted.get("list_types")
    if not isinstance(list_types, dict) or not set(list_types) <= set(OPTIONAL_LISTS):
        raise _InvalidFile(f"list_types is {list_types!r}")
    lists = {}
    for key in OPTIONAL_LISTS:
        values = arrays.pop(key, None)
        if (values is None) != (key not in list_types):
            raise _InvalidFile(f"{key} and its type do not match")
        if values is not None:
            if values.dtype != np.float64 or values.ndim != 1:
                raise _InvalidFile(f"{key} is not a float64 vector")
            if key in none:
                raise _InvalidFile(f"{key} is both None and saved")
            if list_types[key] not in _FLOAT_TYPES:
                raise _InvalidFile(f"{key} has element type {list_types[key]!r}")
            lists[key] = [_FLOAT_TYPES[list_types[key]](v) for v in values]
    scalars = {}
    for key in OPTIONAL_SCALARS:
        if key in fitted:
            if key in none:
                raise _InvalidFile(f"{key} is both None and saved")
            scalars[key] = _scalar_from_json(fitted[key], key)
    # version 2: the optimizer, a generator random_state, a fit in progress
    try:
        optimizer = progress = every = None
        if "optimizer" in metadata:
            if model.solver == "lbfgs":
                raise ValueError(f"an optimizer state for solver={model.solver!r}")
            optimizer = optimizer_from(metadata["optimizer"], arrays,
                                       sum(c.size + b.size for c, b in zip(coefs, intercepts)))
        if "random_state" in metadata:
            if model.random_state is not None:
                raise ValueError("random_state is both a parameter and a generator")
            model.random_state = generator_from(metadata["random_state"], arrays,
                                                "random_state")
        if "in_fit" in metadata:
            progress, every, best = _progress_from(metadata["in_fit"], arrays, coefs,
                                                   intercepts, model)
    except ValueError as exc:
        raise _InvalidFile(str(exc)) from None
    feature_names = fitted.get("feature_names_in_")
    if feature_names is not None:
        if (not isinstance(feature_names, list)
                or not all(isinstance(n, str) for n in feature_names)
                or len(feature_names) != n_features or len(set(feature_names)) != n_features):
            raise _InvalidFile(f"feature_names_in_ is not {n_features} distinct strings")
    if arrays:
        raise _InvalidFile(f"unexpected entries {sorted(arrays)}")

    # all checked: the fitted state, as fit leaves it
    model.n_features_in_ = n_features
    if feature_names is not None:
        model.feature_names_in_ = np.array(feature_names, dtype=object)
    if classifier:
        model._label_binarizer = binarizer
        model.classes_ = binarizer.classes_
    model.n_outputs_ = n_outputs
    model.n_layers_ = n_layers
    model.out_activation_ = out_activation
    model.coefs_ = coefs
    model.intercepts_ = intercepts
    model.n_iter_ = n_iter
    model.t_ = t
    for key, value in scalars.items():
        setattr(model, key, value)
    for key in none:
        setattr(model, key, None)
    for key, value in lists.items():
        setattr(model, key, value)
    if no_improvement is not None:
        model._no_improvement_count = no_improvement
    # early stopping restores these at the end of a fit: the saved weights are the best ones
    # (during a fit, a checkpoint keeps the best so far)
    model._best_coefs = [c.copy() for c in coefs]
    model._best_intercepts = [b.copy() for b in intercepts]
    if progress is not None and best is not None:
        model._best_coefs, model._best_intercepts = best
    if optimizer is not None:
        model._optimizer = optimizer
    return model, progress, every


def _progress_from(state, arrays, coefs, intercepts, model):
    """(FitProgress, every, best weights or None) of a checkpoint written during a fit."""
    keys = {"every", "stopped", "model_dtype", "digest", "dropout_seed", "generator", "order",
            "split", "best"}
    if not isinstance(state, dict) or set(state) != keys:
        raise ValueError("in_fit is malformed")
    every = _expect(state["every"], int, "in_fit every", 1)
    if (state["model_dtype"] not in ("float32", "float64") or not isinstance(state["digest"], str)
            or not all(isinstance(state[k], bool) for k in ("stopped", "order", "split", "best"))):
        raise ValueError("in_fit is malformed")
    if state["dropout_seed"] is not None:
        _expect(state["dropout_seed"], int, "in_fit dropout_seed", 0)
    progress = FitProgress(state["model_dtype"], digest=state["digest"])
    progress.stopped = state["stopped"]
    progress.dropout_seed = state["dropout_seed"]
    progress.generator = generator_from(state["generator"], arrays, "fit_generator")
    if state["order"]:
        order = arrays.pop("fit_order", None)
        if (order is None or order.dtype != np.int64 or order.ndim != 1
                or not np.array_equal(np.sort(order), np.arange(order.size))):
            raise ValueError("fit_order is not a permutation")
        progress.order = order
    if state["split"]:
        train, val = arrays.pop("split_train", None), arrays.pop("split_val", None)
        if train is None or val is None or not np.array_equal(
                np.sort(np.concatenate([train, val])), np.arange(train.size + val.size)):
            raise ValueError("the split is not a partition of the rows")
        progress.split = (train.astype(np.intp), val.astype(np.intp))
    best = None
    if state["best"]:
        best = ([arrays.pop(f"best_coefs_{i}", None) for i in range(len(coefs))],
                [arrays.pop(f"best_intercepts_{i}", None) for i in range(len(coefs))])
        for a, ref in zip(best[0] + best[1], coefs + intercepts):
            if a is None or a.shape != ref.shape or a.dtype != ref.dtype:
                raise ValueError("the best weights do not match the weights")
    return progress, every, best


def _label_binarizer(fitted, classes, n_outputs):
    """The classifier's LabelBinarizer, refit as fit made it, and checked against the file."""
    state = fitted.get("label_binarizer")
    if not isinstance(state, dict) or set(state) != {
            "y_type_", "sparse_input_", "sparse_output", "neg_label", "pos_label"}:
        raise _InvalidFile("label_binarizer is malformed")
    if (state["neg_label"], state["pos_label"], state["sparse_output"]) != (0, 1, False):
        raise _InvalidFile("label_binarizer is not MLPClassifier's (0/1 labels, dense)")
    y_type = state["y_type_"]
    if y_type not in _Y_TYPES:
        raise _InvalidFile(f"label_binarizer.y_type_ {y_type!r} is unknown")
    sparse_input = _expect(state["sparse_input_"], bool, "label_binarizer.sparse_input_")
    if classes is None:
        raise _InvalidFile("a classifier needs classes_")
    if classes.ndim != 1 or classes.dtype.kind not in _CLASS_KINDS or len(classes) == 0:
        raise _InvalidFile(f"classes_ must be a non-empty vector of numbers or strings, got "
                           f"dtype {classes.dtype} and shape {classes.shape}")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        raise _InvalidFile("classes_ are not all finite")
    if not np.array_equal(np.unique(classes), classes):
        raise _InvalidFile("classes_ are not sorted and distinct")
    as_object = _expect(fitted.get("classes_object"), bool, "classes_object")
    if as_object and classes.dtype.kind != "U":
        raise _InvalidFile("classes_object needs string classes_")
    if as_object:
        classes = classes.astype(object)

    if y_type == "multilabel-indicator":
        if len(classes) != n_outputs or n_outputs < 2:
            raise _InvalidFile(f"a multilabel classifier with {n_outputs} outputs has "
                               f"classes_ {classes!r}")
        y = np.eye(n_outputs, dtype=np.int64)
        binarizer = LabelBinarizer().fit(sp.csr_matrix(y) if sparse_input else y)
    else:
        if sparse_input:
            raise _InvalidFile(f"a {y_type} label binarizer with sparse input")
        expected_outputs = len(classes) if y_type == "multiclass" else 1
        if (y_type == "multiclass") != (len(classes) > 2) or n_outputs != expected_outputs:
            raise _InvalidFile(f"y_type_ {y_type!r} with {len(classes)} classes_ and "
                               f"{n_outputs} outputs")
        binarizer = LabelBinarizer().fit(classes)
    if binarizer.y_type_ != y_type or not (
            binarizer.classes_.dtype == classes.dtype
            and np.array_equal(binarizer.classes_, classes)):
        raise _InvalidFile(f"classes_ {classes!r} do not make a {y_type!r} label binarizer")
    return binarizer
