"""Checkpoints that resume: fastnn.save's format 2 keeps the optimizer and generator state (a
loaded model's partial_fit / warm start continue bit for bit), version-1 files still load,
fastnn.callbacks.Checkpoint writes a fit's whole state durably, and fastnn.callbacks.resume
continues a fit killed with SIGKILL to the uninterrupted fit's model (in a child process)."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning

import fastnn
from fastnn import MLPClassifier, MLPRegressor, _persist
from fastnn.callbacks import Checkpoint, resume

from _util import assert_same_training, fit_quiet

# Checkpoint is a callback of scikit-learn's callback API (scikit-learn >= 1.9)
needs_callbacks = pytest.mark.skipif(importlib.util.find_spec("sklearn.callback") is None,
                                     reason="scikit-learn < 1.9 has no callback API")


def _digits(n=400):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16, y[:n]


def _same_model(a, b):
    assert_same_training(a, b)
    assert a.n_iter_ == b.n_iter_


# ------------------------------------------------------------------ save / load, format 2
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=1, tol=0.5),
        dict(solver="sgd", momentum=0.5, nesterovs_momentum=False, lr_schedule="plateau"),
        dict(solver="adam", lr_schedule="cosine", warmup_epochs=2, dropout=0.2),
    ],
)
@pytest.mark.parametrize("random_state", ["int", "mt19937", "pcg64"])
def test_a_loaded_model_continues_bit_for_bit(params, random_state, tmp_path):
    X, y = _digits()

    def make():
        rs = {"int": 0, "mt19937": np.random.RandomState(0),
              "pcg64": np.random.RandomState(np.random.PCG64(0))}[random_state]
        return MLPClassifier((16,), max_iter=6, random_state=rs, **params)

    model = fit_quiet(make(), X, y)
    fastnn.save(model, tmp_path / "m.fastnn")
    loaded = fastnn.load(tmp_path / "m.fastnn")
    _same_model(model, loaded)
    for m in (model, loaded):
        m.partial_fit(X, y)
        m.partial_fit(X[:100], y[:100], epochs=2)
    _same_model(model, loaded)
    for m in (model, loaded):  # a warm-started fit, after the partial_fits
        fit_quiet(m.set_params(warm_start=True, max_iter=3), X, y)
    _same_model(model, loaded)


def test_regressor_optimizer_state_round_trips(tmp_path):
    X, y = make_regression(200, 5, random_state=0)
    model = fit_quiet(MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=4,
                                   random_state=0), X.astype(np.float32), y / 100)
    fastnn.save(model, tmp_path / "r.fastnn")
    loaded = fastnn.load(tmp_path / "r.fastnn")
    np.testing.assert_array_equal(loaded._optimizer.velocity, model._optimizer.velocity)
    assert loaded._optimizer.velocity.dtype == np.float32
    assert loaded._optimizer.learning_rate == model._optimizer.learning_rate


def _rewrite(path, edit):
    """Rewrite a saved file: edit(metadata, arrays) in place."""
    with zipfile.ZipFile(path) as archive:
        arrays = {n[:-4]: np.load(archive.open(n), allow_pickle=False) for n in archive.namelist()}
    metadata = json.loads(arrays.pop("metadata").tobytes())
    edit(metadata, arrays)
    arrays["metadata"] = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        _persist._write_npz(f, arrays)


def test_version_1_files_still_load(tmp_path):
    X, y = _digits()
    model = fit_quiet(MLPClassifier((8,), max_iter=3, random_state=0), X, y)
    path = tmp_path / "v1.fastnn"
    fastnn.save(model, path)

    def as_version_1(metadata, arrays):
        metadata["version"] = 1
        del metadata["optimizer"]
        for name in ("optimizer_m", "optimizer_v"):
            del arrays[name]

    _rewrite(path, as_version_1)
    loaded = fastnn.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert not hasattr(loaded, "_optimizer")  # a fresh optimizer on partial_fit, as before
    loaded.partial_fit(X, y)
    _rewrite(path, lambda metadata, arrays: metadata.update(optimizer={"kind": "adam"}))
    with pytest.raises(ValueError, match="a version 1 file with version 2 entries"):
        fastnn.load(path)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda m, a: a.update(optimizer_m=a["optimizer_m"][:-1]), "optimizer_m must be a vector"),
        (lambda m, a: m["optimizer"].update(t=-1), "optimizer t must be an integer >= 0"),
        (lambda m, a: m["optimizer"].update(beta_1=None), "optimizer beta_1 must be a finite"),
        (lambda m, a: m["optimizer"].pop("epsilon"), "optimizer has entries"),
        (lambda m, a: m["random_state"].update(pos=700), "pos must be <= 624"),
        (lambda m, a: a.pop("random_state_key"), "random_state_key must be a vector of 624"),
    ],
)
def test_a_damaged_optimizer_or_generator_state_is_refused(edit, match, tmp_path):
    X, y = _digits()
    model = fit_quiet(MLPClassifier((8,), max_iter=2, random_state=np.random.RandomState(0)),
                      X, y)
    path = tmp_path / "m.fastnn"
    fastnn.save(model, path)
    _rewrite(path, edit)
    with pytest.raises(ValueError, match=match):
        fastnn.load(path)


# ------------------------------------------------------------------------- checkpoints
class _Crash(Exception):
    pass


class _CrashAt:
    """A callback that raises in epoch ``epoch``'s end, after the checkpoint was written."""

    def __init__(self, epoch):
        self.epoch = epoch

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, **kwargs):
        if context.task_name == "epoch" and estimator.n_iter_ == self.epoch:
            raise _Crash


_CASES = {
    "adam": dict(solver="adam"),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=2, tol=0.2,
                         learning_rate_init=0.5),
    "early-stopping": dict(early_stopping=True, n_iter_no_change=30),
    "dropout-float32": dict(dropout=0.3, lr_schedule="cosine"),
    "pcg64-class-weight": dict(class_weight="balanced"),
}


@needs_callbacks
@pytest.mark.parametrize("case", sorted(_CASES))
def test_a_crashed_fit_resumes_to_the_uninterrupted_model(case, tmp_path):
    X, y = _digits()
    if case == "dropout-float32":
        X = X.astype(np.float32)

    def make():  # a fresh generator each time, as when the program runs again
        rs = np.random.RandomState(np.random.PCG64(3)) if case.startswith("pcg64") else 0
        return MLPClassifier((16,), max_iter=12, random_state=rs, **_CASES[case])

    reference = fit_quiet(make(), X, y)
    assert reference.n_iter_ > 5
    path = tmp_path / "fit.ckpt"
    crashing = make().set_callbacks(Checkpoint(path, every=2), _CrashAt(5))
    with pytest.raises(_Crash):
        fit_quiet(crashing, X, y)
    at_epoch_4 = fastnn.load(path)  # a checkpoint is a model too: the one of epoch 4
    assert at_epoch_4.n_iter_ == 4 and len(at_epoch_4.loss_curve_) == 4
    resumed = fit_quiet_resume(path, X, y)
    _same_model(reference, resumed)
    # the resumed fit went on checkpointing; at its end the file holds the fitted model
    _same_model(fastnn.load(path), reference)
    _same_model(resume(path, X, y), reference)  # a finished fit's checkpoint: its model


def fit_quiet_resume(path, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return resume(path, X, y, **kwargs)


@needs_callbacks
def test_resume_with_a_given_validation_set_and_stopped_fits(tmp_path):
    X, y = _digits(600)
    X_val, y_val = X[400:], y[400:]
    X, y = X[:400], y[:400]
    params = dict(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=2, tol=0.05,
                  max_iter=50, random_state=0)
    reference = fit_quiet(MLPClassifier(**params), X, y, X_val=X_val, y_val=y_val)
    stop = reference.n_iter_
    assert stop < 50  # early stopping ended it
    path = tmp_path / "fit.ckpt"
    # crash in the very epoch whose rule stopped the fit: the checkpoint knows it stopped
    crashing = MLPClassifier(**params).set_callbacks(Checkpoint(path), _CrashAt(stop))
    with pytest.raises(_Crash):
        fit_quiet(crashing, X, y, X_val=X_val, y_val=y_val)
    resumed = fit_quiet_resume(path, X, y, X_val=X_val, y_val=y_val)
    _same_model(reference, resumed)


@needs_callbacks
def test_resume_refuses_other_data_and_bad_checkpoints(tmp_path):
    X, y = _digits()
    path = tmp_path / "fit.ckpt"
    crashing = MLPClassifier((8,), max_iter=5, random_state=0).set_callbacks(
        Checkpoint(path, every=2), _CrashAt(3))
    with pytest.raises(_Crash):
        fit_quiet(crashing, X, y)
    with pytest.raises(ValueError, match="not the data the checkpoint's fit was trained on"):
        resume(path, X[:-1], y[:-1])
    X_changed = X.copy()
    X_changed[0, 0] += 1e-9
    with pytest.raises(ValueError, match="not the data the checkpoint's fit was trained on"):
        resume(path, X_changed, y)
    with pytest.raises(ValueError, match="every == 0, must be >= 1"):
        Checkpoint(path, every=0)
    (tmp_path / "junk").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a valid fastnn model file"):
        resume(tmp_path / "junk", X, y)


@needs_callbacks
def test_writes_are_durable_and_leave_no_temporary_file(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    X, y = _digits()
    model = MLPClassifier((8,), max_iter=4, random_state=0).set_callbacks(
        Checkpoint(tmp_path / "fit.ckpt", every=2))
    fit_quiet(model, X, y)
    # epochs 2 and 4 and the end of the fit: each a file fsync and a directory fsync
    assert len(synced) == 3 * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.ckpt"]


_CHILD = textwrap.dedent("""
    import os, signal, sys, warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from fastnn import MLPClassifier
    from fastnn.callbacks import Checkpoint
    warnings.simplefilter("ignore")
    path, kill_at = sys.argv[1], int(sys.argv[2])
    X, y = load_digits(return_X_y=True)
    X = X / 16

    class Kill:
        def setup(self, estimator, context): pass
        def teardown(self, estimator, context): pass
        def on_fit_task_begin(self, estimator, context, **kwargs): pass
        def on_fit_task_end(self, estimator, context, **kwargs):
            if context.task_name == "epoch":
                print(estimator.n_iter_, flush=True)
                if estimator.n_iter_ == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)

    model = MLPClassifier((32,), max_iter=%(max_iter)d, random_state=0, dropout=0.1,
                          early_stopping=True, n_iter_no_change=1000)
    model.set_callbacks(Checkpoint(path, every=%(every)d), Kill())
    model.fit(X, y)
    print("done", flush=True)
""")


def _child(path, kill_at, max_iter=12, every=4):
    code = _CHILD % {"max_iter": max_iter, "every": every}
    return subprocess.Popen([sys.executable, "-c", code, str(path), str(kill_at)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _uninterrupted(max_iter):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    model = MLPClassifier((32,), max_iter=max_iter, random_state=0, dropout=0.1,
                          early_stopping=True, n_iter_no_change=1000)
    return fit_quiet(model, X, y), X, y


@needs_callbacks
@pytest.mark.subprocess
def test_a_fit_killed_with_sigkill_resumes_to_the_same_model(tmp_path):
    path = tmp_path / "fit.ckpt"
    child = _child(path, kill_at=10)
    out, err = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL, err
    assert out.split() == [str(k) for k in range(1, 11)]  # killed in epoch 10's end
    assert fastnn.load(path).n_iter_ == 8  # the last checkpoint: epoch 8
    reference, X, y = _uninterrupted(12)
    _same_model(reference, fit_quiet_resume(path, X, y))


@needs_callbacks
@pytest.mark.subprocess
@pytest.mark.slow
def test_killed_at_any_moment_the_checkpoint_is_whole_and_resumes(tmp_path):
    # SIGKILL from outside at arbitrary moments -- during epochs and during writes: the file
    # is always a complete checkpoint (or not there yet), and resuming gives the same model.
    reference, X, y = _uninterrupted(150)
    rng = np.random.default_rng(0)
    for attempt in range(4):
        path = tmp_path / f"fit{attempt}.ckpt"
        child = _child(path, kill_at=-1, max_iter=150, every=1)
        first = child.stdout.readline()  # epoch 1 ended: its checkpoint is written
        assert first.strip() == "1", child.stderr.read()
        time.sleep(rng.uniform(0.0, 0.5))
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        if child.returncode == 0:  # finished before the kill: the file holds the model
            _same_model(fastnn.load(path), reference)
            continue
        assert child.returncode == -signal.SIGKILL
        assert fastnn.load(path).n_iter_ >= 1  # whole, whatever the moment of the kill
        _same_model(reference, fit_quiet_resume(path, X, y))
