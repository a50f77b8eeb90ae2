"""Data-parallel training on a Dask cluster: ``fastnn.dask.MLPClassifier`` / ``MLPRegressor``.

The engine is Dask's (``distributed``): fastnn adds the training algorithm on top. The data stay
where they live: each row block of X, y and sample_weight is turned into the core's arrays by
the worker holding it, and every later task on it is pinned to that worker. With
``solver='lbfgs'`` the driver runs scipy's L-BFGS-B exactly as a local fit does
(``_engine.run_lbfgs``); each evaluation of the loss and gradient is one task per worker, which
returns its blocks' unnormalised sums (loss·Σw, Σw, gradient·Σw: the core's weighted means
scaled back); the driver adds them **in block order**, then the L2 term, so the fitted model is
bitwise the same whatever the number of workers, the blocks' placement and the threads.

Every wait has a deadline (``comm_timeout``): a lost or frozen worker is an error that names it,
never a hang, and the cluster stays usable.

Not yet here (issue 18): the stochastic solvers ('sync' and 'local' parallelism, worker-to-worker
reduction) and ``max_restarts``; they are refused with a message.
"""

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted

from fastnn import _engine, _mlp
from fastnn._callbacks import FitTasks
from fastnn._compat import _fit_context
from fastnn._spec import NetworkSpec, network_params

__all__ = ["MLPClassifier", "MLPRegressor", "scatter_rows"]

# The Dask estimators' own parameters, after fastnn's.
DASK_PARAMS = {"client": None, "parallelism": "sync", "sync_every": 1, "comm_timeout": 60.0,
               "max_restarts": 0}
_DASK_CONSTRAINTS = {
    "client": "no_validation",
    "parallelism": [StrOptions({"sync", "local"})],
    "sync_every": [Interval(Integral, 1, None, closed="left")],
    "comm_timeout": [Interval(Real, 0, None, closed="neither")],
    "max_restarts": [Interval(Integral, 0, None, closed="left")],
}


class _Block:
    """One row block of the training data in the core's form, on the worker holding it. Its
    trainer is built at first use and never sent (a block moved to another worker builds its
    own)."""

    def __init__(self, spec, X, Y, sample_weight):
        self.spec, self.X, self.Y, self.sample_weight = spec, X, Y, sample_weight
        self.rows = X.shape[0]
        self.weight_sum = float(self.rows if sample_weight is None
                                else np.sum(sample_weight, dtype=np.float64))
        self._trainer = None

    def __getstate__(self):
        return {**self.__dict__, "_trainer": None}

    def partial_sums(self, params, n_threads):
        """(Σ w·loss, Σ w, Σ w·gradient) of the block's rows at params, without the L2 term."""
        if self.rows == 0:
            return 0.0, 0.0, np.zeros(params.shape[0])
        if self._trainer is None:
            self._trainer = _engine._TRAINERS[self.spec.dtype](
                self.spec.network(), self.X.shape[1], self.rows, 0.0, n_threads)
        grad = np.empty_like(params)
        loss = self._trainer.loss_and_gradient(params, self.X, self.Y, self.sample_weight, grad)
        return loss * self.weight_sum, self.weight_sum, grad.astype(np.float64) * self.weight_sum


def _prepare_block(X, y, sample_weight, spec, binarizer):
    """A worker's task: its block of X, y, sample_weight as a _Block (validated as a local
    fit validates them)."""
    X = check_array(X, dtype=(np.float64, np.float32), ensure_min_samples=0)
    if sample_weight is not None and X.shape[0]:
        sample_weight = _check_sample_weight(sample_weight, X)
    if binarizer is not None:
        Y = binarizer.transform(np.asarray(y)).astype(bool) if len(y) else np.zeros(
            (0, spec.layer_units[-1]), dtype=bool)
    else:
        Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], spec.layer_units[-1])
    X, Y, sample_weight = _engine._core_inputs(X, Y, sample_weight, spec.dtype)
    return _Block(spec, X, Y, sample_weight)


def _labels(y):
    """A worker's task: the class labels in its block of y."""
    return np.unique(np.asarray(y))


def _evaluate(params, *blocks):
    """A worker's task: the partial sums of each of its blocks, in the order given."""
    from distributed import get_worker

    threads = get_worker().state.nthreads
    return [block.partial_sums(params, threads) for block in blocks]


def _as_dask_arrays(X, y, sample_weight):
    """X (rows in blocks, all columns in each), y and sample_weight as dask arrays with X's row
    blocks; dataframes and series are converted with their lengths."""

    X, y, sample_weight = _as_dask_X(X), _as_dask(y), _as_dask(sample_weight)
    if y.shape[0] != X.shape[0]:  # before rechunking y like X, which would fail less clearly
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"[{X.shape[0]}, {y.shape[0]}]")
    y = y.rechunk({0: X.chunks[0]}) if y.chunks[0] != X.chunks[0] else y
    if y.ndim == 2 and len(y.chunks[1]) != 1:
        y = y.rechunk({1: -1})
    if sample_weight is not None and sample_weight.chunks[0] != X.chunks[0]:
        sample_weight = sample_weight.rechunk({0: X.chunks[0]})
    return X, y, sample_weight


def scatter_rows(a, rows, workers=None, client=None):
    """An in-memory array as a dask array of ``rows``-row blocks placed on the cluster's
    workers in turn (block i on ``workers[i % len(workers)]``; all workers by default), for a
    fit whose data starts in this process.

    Returns
    -------
    dask.array.Array
    """
    import dask.array as da
    from distributed import get_client

    client = client if client is not None else get_client()
    workers = workers or sorted(client.scheduler_info()["workers"])
    blocks = []
    for i, start in enumerate(range(0, a.shape[0], rows)):
        part = a[start:start + rows]
        # hash=False: a fresh key, so rows scattered before (same content, same hashed key)
        # are placed again where asked, not left where they were
        future = client.scatter(part, workers=[workers[i % len(workers)]], hash=False)
        blocks.append(da.from_delayed(future, shape=part.shape, dtype=part.dtype))
    return da.concatenate(blocks)


def _is_dask(a):
    import dask.array as da

    return isinstance(a, da.Array) or hasattr(a, "to_dask_array")


def _as_dask(a):
    """A dask array, dataframe or series as a dask array (with its blocks' lengths)."""
    if a is None or not hasattr(a, "to_dask_array"):
        if a is not None and not _is_dask(a):
            raise TypeError(f"fastnn.dask estimators take dask arrays or dataframes, got "
                            f"{type(a).__name__}: fit a fastnn.MLPClassifier / MLPRegressor on "
                            "in-memory data")
        return a
    return a.to_dask_array(lengths=True)


def _as_dask_X(X):
    """X as a 2-D dask array whose row blocks hold every column."""
    X = _as_dask(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got {X.ndim} dimensions")
    return X.rechunk({1: -1}) if len(X.chunks[1]) != 1 else X


def _block_futures(client, array):
    """The futures of a persisted dask array's row blocks, in order."""
    from distributed import futures_of

    by_key = {f.key: f for f in futures_of(array)}
    return [by_key[(array.name, i) if array.ndim == 1 else (array.name, i, 0)]
            for i in range(len(array.chunks[0]))]


def _gather(client, futures, workers, timeout, fetch=True):
    """The futures' results (or, without ``fetch``, nothing: they stay on their workers); a
    worker that does not answer within ``timeout`` seconds (lost or frozen) or whose task failed
    is an error naming it."""
    from distributed import wait

    try:
        wait(futures, timeout=timeout)
    except TimeoutError:
        late = sorted({w for f, w in zip(futures, workers) if not f.done()})
        client.cancel(futures)
        raise TimeoutError(f"fastnn.dask: worker(s) {late} did not answer within "
                           f"comm_timeout={timeout} s (lost or frozen)") from None
    for future, worker in zip(futures, workers):
        if future.status != "finished":
            error = future.exception()
            raise RuntimeError(f"fastnn.dask: the training task on worker {worker} failed: "
                               f"{error!r}") from error
    return client.gather(futures) if fetch else None


class _DaskMLP:
    """What both Dask estimators add to fastnn's (``local``): the cluster fit, lazy predictions,
    and the Dask parameters after fastnn's."""

    def __init_subclass__(cls, local, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._local_class = local
        cls._parameter_constraints = {**local._parameter_constraints, **_DASK_CONSTRAINTS}
        cls.__init__ = _dask_init(local, "fastnn's parameters, then the Dask ones.")
        cls.__doc__ = f"""fastnn's {local.__name__} trained on a Dask cluster, each row block
    where it lives (``fastnn.dask``'s module docstring). ``solver='lbfgs'``: the same model
    whatever the number of workers and the blocks' placement.
""" + _PARAMS_DOC

    def _client(self):
        from distributed import get_client

        return self.client if self.client is not None else get_client()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model on row-chunked dask arrays or dataframes X, y (and sample_weight),
        each block trained where it lives.

        Returns
        -------
        self : object
        """
        if self.solver != "lbfgs":
            raise ValueError(
                f"fastnn.dask trains with solver='lbfgs' for now; solver={self.solver!r} "
                "(parallelism 'sync' / 'local') is not implemented yet. Use solver='lbfgs', or "
                "fastnn.MLPClassifier / MLPRegressor with dask-ml's Incremental.")
        if self.max_restarts:
            raise ValueError("max_restarts is not implemented yet: use max_restarts=0")
        network_params(self)
        client = self._client()
        X, y, sample_weight = _as_dask_arrays(X, y, sample_weight)
        if X.shape[0] == 0:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        located = self._locate(client, X, y, sample_weight)
        binarizer, n_outputs, y_type = self._targets(client, y, located)
        self.n_features_in_ = X.shape[1]
        spec = NetworkSpec.build(self, X.shape[1], n_outputs, is_classifier(self), y_type,
                                 _engine.compute_dtype(X.dtype))
        self._random_state = check_random_state(self.random_state)
        self._initialize(spec)
        tasks = FitTasks(self, X, y, sample_weight, False)
        blocks, holders = self._prepare(client, spec, binarizer, located)
        try:
            loss_grad = self._loss_grad(client, spec, blocks, holders)
            _engine.run_lbfgs(self, loss_grad, _engine._pack(self.coefs_, self.intercepts_,
                                                            spec.dtype),
                              spec.loss_type(np.dtype(y.dtype), sample_weight is not None), tasks)
        finally:
            client.cancel(blocks)
        if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
            raise ValueError("Solver produced non-finite parameter weights. The input data may"
                             " contain large values and need to be preprocessed.")
        tasks.end()
        return self

    def _locate(self, client, X, y, sample_weight):
        """The arrays persisted on the cluster: their row blocks' futures (X, y, sample_weight
        or None) and the worker holding each X block."""
        from distributed import wait

        arrays = client.persist([a for a in (X, y, sample_weight) if a is not None])
        try:
            wait(arrays, timeout=self.comm_timeout)
        except TimeoutError:
            raise TimeoutError(f"fastnn.dask: the training data were not ready within "
                               f"comm_timeout={self.comm_timeout} s") from None
        x_blocks, y_blocks = _block_futures(client, arrays[0]), _block_futures(client, arrays[1])
        w_blocks = (_block_futures(client, arrays[2]) if sample_weight is not None
                    else [None] * len(x_blocks))
        who_has = client.who_has(x_blocks)
        holders = [sorted(who_has[f.key])[0] for f in x_blocks]
        return list(zip(x_blocks, y_blocks, w_blocks)), holders

    def _on_blocks(self, client, located, task, *args, which=slice(None), fetch=True):
        """``task(*block[which], *args)`` on the worker holding each block: its futures, and
        its results in block order when ``fetch``."""
        blocks, holders = located
        futures = [client.submit(task, *block[which], *args, workers=[holder],
                                 allow_other_workers=False, pure=False)
                   for block, holder in zip(blocks, holders)]
        return futures, _gather(client, futures, holders, self.comm_timeout, fetch)

    def _prepare(self, client, spec, binarizer, located):
        """Each row block prepared by the worker holding it, and kept there: (futures of
        _Block, holders)."""
        blocks, _ = self._on_blocks(client, located, _prepare_block, spec, binarizer,
                                    fetch=False)
        return blocks, located[1]

    def _loss_grad(self, client, spec, blocks, holders):
        """scipy's objective: the loss and gradient over every block, their partial sums added
        in block order whatever worker computed them, then the L2 term (as the core adds it)."""
        workers = sorted(set(holders))
        mine = {w: [i for i, h in enumerate(holders) if h == w] for w in workers}
        n_coefs = sum(c.size for c in self.coefs_)

        def loss_grad(packed):
            params = packed.astype(spec.dtype)
            futures = [client.submit(_evaluate, params, *[blocks[i] for i in mine[w]],
                                     workers=[w], allow_other_workers=False, pure=False)
                       for w in workers]
            partial = [None] * len(blocks)
            for w, sums in zip(workers, _gather(client, futures, workers, self.comm_timeout)):
                for i, s in zip(mine[w], sums):
                    partial[i] = s
            loss = weight = 0.0
            grad = np.zeros(packed.shape[0])
            for block_loss, block_weight, block_grad in partial:  # block order
                loss += block_loss
                weight += block_weight
                grad += block_grad
            coefs = params[:n_coefs].astype(np.float64)
            loss = loss / weight + 0.5 * self.alpha * float(coefs @ coefs) / weight
            grad /= weight
            grad[:n_coefs] += self.alpha * coefs / weight
            return loss, grad

        return loss_grad

    def to_local(self):
        """The fitted model as an ordinary fastnn estimator (the same weights and state)."""
        check_is_fitted(self)
        local = self._local_class(**{k: v for k, v in self.get_params().items()
                                     if k not in DASK_PARAMS})
        local.__dict__.update({k: v for k, v in self.__dict__.items() if k not in DASK_PARAMS})
        return local

    def _lazily(self, method, X, n_columns):
        """``method`` of the local model over X: per block for a dask array (lazy), else at
        once."""
        local = self.to_local()
        if not _is_dask(X):
            return getattr(local, method)(X)
        X = _as_dask_X(X)
        chunks = (X.chunks[0],) if n_columns is None else (X.chunks[0], (n_columns,))
        dtype = self._output_dtype(method, X)
        return X.map_blocks(_predict_block, local, method, n_columns, dtype, chunks=chunks,
                            drop_axis=1 if n_columns is None else None, dtype=dtype)


def _predict_block(X, model, method, n_columns, dtype):
    if X.shape[0] == 0:  # an empty block: scikit-learn's checks refuse 0 rows
        return np.empty((0,) if n_columns is None else (0, n_columns), dtype=dtype)
    return getattr(model, method)(X)


def _dask_init(base, doc):
    """__init__ of a Dask estimator: fastnn's parameters (base's signature, so get_params and
    clone see them all) then the Dask ones."""
    params = list(inspect.signature(base.__init__).parameters.values())
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
             for name, default in DASK_PARAMS.items()]

    def __init__(self, *args, **kwargs):
        for name, default in DASK_PARAMS.items():
            setattr(self, name, kwargs.pop(name, default))
        base.__init__(self, *args, **kwargs)

    __init__.__signature__ = inspect.Signature(params + extra)
    __init__.__doc__ = doc
    return __init__


_PARAMS_DOC = """
    Dask parameters (after fastnn's, which keep their meaning):

    client : distributed.Client, default=None
        The cluster's client; None takes the current one (``distributed.get_client()``).
    parallelism : {'sync', 'local'}, default='sync'
        For the stochastic solvers (not implemented yet).
    sync_every : int, default=1
        'local' parallelism's local steps between model averages (not implemented yet).
    comm_timeout : float, default=60.0
        Seconds any wait for a worker may take before the fit fails, naming the worker.
    max_restarts : int, default=0
        Restarts after a lost worker (not implemented yet: 0).
"""


class MLPClassifier(_DaskMLP, _mlp.MLPClassifier, local=_mlp.MLPClassifier):
    def _targets(self, client, y, located):
        if y.ndim != 1:
            raise ValueError("fastnn.dask.MLPClassifier takes 1-D class labels (multilabel "
                             "targets are not supported yet)")
        _, per_block = self._on_blocks(client, located, _labels, which=slice(1, 2))
        labels = np.unique(np.concatenate(per_block))
        binarizer = LabelBinarizer().fit(labels)
        self._label_binarizer, self.classes_ = binarizer, binarizer.classes_
        n_outputs = 1 if len(self.classes_) <= 2 else len(self.classes_)
        return binarizer, n_outputs, type_of_target(labels)

    def _output_dtype(self, method, X):
        return self.classes_.dtype if method == "predict" else self.coefs_[0].dtype

    def predict(self, X):
        """Class labels: a dask array, computed per block, for dask X."""
        return self._lazily("predict", X, None)

    def predict_proba(self, X):
        """Class probabilities: a dask array, computed per block, for dask X."""
        return self._lazily("predict_proba", X, len(self.classes_))

    def predict_log_proba(self, X):
        return self._lazily("predict_log_proba", X, len(self.classes_))

    def score(self, X, y, sample_weight=None):
        """Mean accuracy (weighted), from per-block sums for dask X."""
        return _score(self, X, y, sample_weight, lambda p, t: (p == t).astype(np.float64))


class MLPRegressor(_DaskMLP, _mlp.MLPRegressor, local=_mlp.MLPRegressor):
    def _targets(self, client, y, located):
        return None, 1 if y.ndim == 1 else y.shape[1], None

    def _output_dtype(self, method, X):
        return self.coefs_[0].dtype

    def predict(self, X):
        """Predictions: a dask array, computed per block, for dask X (1-D for one output)."""
        return self._lazily("predict", X, None if self.n_outputs_ == 1 else self.n_outputs_)

    def score(self, X, y, sample_weight=None):
        """R² (uniform average over outputs, as scikit-learn's), from per-block sums for dask
        X."""
        return _score(self, X, y, sample_weight, None)


def _score(model, X, y, sample_weight, per_row):
    """The local model's score on in-memory data; for dask data, accuracy from per-row hits or
    R² from the per-block sums of y, y², and (y - ŷ)², weighted."""
    import dask.array as da

    if not _is_dask(X):
        return model.to_local().score(X, y, sample_weight)
    X, y, sample_weight = _as_dask_arrays(X, y, sample_weight)
    pred = model.predict(X)
    w = da.ones(y.shape[0], chunks=y.chunks[0]) if sample_weight is None else sample_weight
    if per_row is not None:
        hits, total = da.compute((per_row(pred, y) * w).sum(), w.sum())
        return float(hits / total)
    y2 = y.reshape(y.shape[0], -1).astype(np.float64)
    p2 = pred.reshape(y.shape[0], -1).astype(np.float64)
    w2 = w[:, None]
    sw, sy, syy, sres = da.compute(w.sum(), (w2 * y2).sum(0), (w2 * y2 ** 2).sum(0),
                                   (w2 * (y2 - p2) ** 2).sum(0))
    total = syy - sy ** 2 / sw
    return float(np.mean(1 - sres / total))
