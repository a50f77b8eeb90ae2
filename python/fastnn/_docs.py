"""Docstring text shared by both estimators: fastnn's extra parameters, documented once."""

__all__ = ["CLASSIFIER_EXTRAS", "REGRESSOR_EXTRAS", "documents_extras"]

_ADDITIONS = "    The additions (their defaults keep scikit-learn's behaviour):\n"

CLASSIFIER_EXTRAS = _ADDITIONS + """
    loss : {'log_loss', 'squared_error'}, default='log_loss'
        'squared_error' is the lecture notes' quadratic cost 1/N sum ½||y - F(x)||² on
        sigmoid outputs with one-hot targets (``predict_proba`` then normalises the outputs of
        a multiclass model to sum to one).

    class_weight : dict, list of dict or 'balanced', default=None
        Weights of the classes, with scikit-learn's meaning: each sample's weight is multiplied
        by its class's (``sklearn.utils.class_weight.compute_sample_weight``), in the training
        loss and in early stopping's validation score. 'balanced' weighs the classes by
        ``n_samples / (n_classes * np.bincount(y))`` of the data ``fit`` is given; a dict maps
        class labels to weights (1 for those it omits). Multilabel targets take 'balanced' or a
        list of dicts, one per output, each mapping 0 and 1 to weights. ``partial_fit`` takes
        dicts over the ``classes`` given, not 'balanced' (as scikit-learn's ``SGDClassifier``).
"""

REGRESSOR_EXTRAS = _ADDITIONS + """
    loss : {'squared_error', 'poisson', 'absolute_error', 'huber', 'quantile'}, \\
            default='squared_error'
        'squared_error' and 'poisson' are scikit-learn's (identity and exp outputs). fastnn
        adds robust losses with identity outputs, each averaged over the outputs:
        'absolute_error' mean |y - ŷ| (the conditional median), 'huber' ½r² for |r| <=
        ``huber_delta``, ``huber_delta``·(|r| - ½``huber_delta``) beyond (Huber 1964), and
        'quantile' the pinball loss of ``quantile`` (Koenker & Bassett 1978: the model predicts
        that conditional quantile). Their gradients are the exact (sub)gradients.

    huber_delta : float, default=1.0
        Where 'huber' turns from quadratic to linear (> 0). Ignored by the other losses.

    quantile : float, default=0.5
        The quantile 'quantile' predicts, in (0, 1). Ignored by the other losses.
"""

# fastnn's additions to scikit-learn's parameters, documented once for both estimators.
EXTRAS_DOC = """
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu', 'softplus', \
            'silu', 'gelu'}, default='relu'
        scikit-learn's four, and fastnn's: 'leaky_relu' (slope ``leaky_relu_slope`` for z < 0),
        'elu' z for z > 0, exp(z) - 1 otherwise (Clevert et al. 2016, α = 1); 'softplus'
        log(1 + exp(z)) (Dugas et al. 2001); 'silu' z·σ(z), also called swish (Elfwing et al.
        2018; ``torch.nn.SiLU``); 'gelu' z·Φ(z) with Φ the standard normal distribution
        function, exact through erfc, not the tanh approximation (Hendrycks & Gimpel 2016;
        ``torch.nn.GELU()``). Each is evaluated by vectorised code within 2 ulp of the exact
        value (gelu in float64: 2.5, SLEEF's erfc being a 1.5-ulp function).

    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop', 'rprop'}, default='adam'
        scikit-learn's three, and three of fastnn's, each PyTorch's step: 'rprop' (iRprop-,
        Igel & Hüsken 2000, ``torch.optim.Rprop``: full batch, ``batch_size`` ignored; per
        parameter steps from ``learning_rate_init``, x1.2 / x0.5 within [1e-6, 50]; no
        ``lr_schedule``), 'adamw' (Loshchilov &
        Hutter 2019, ``torch.optim.AdamW``: Adam with decoupled weight decay; ``alpha`` is the
        decay, applied to the coefficients, and the loss has no L2 term) and 'rmsprop'
        (Tieleman & Hinton 2012, ``torch.optim.RMSprop``, not centred; ``beta_2`` is its
        smoothing constant; ``alpha`` stays scikit-learn's L2 term). Both use
        ``learning_rate_init``, ``lr_schedule`` and ``epsilon``.

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

    weight_init : {'sklearn', 'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal'} \\
            or float, default='sklearn'
        Initial weights. 'sklearn' draws exactly as scikit-learn does; Glorot/Xavier
        (variance 2 / (fan_in + fan_out)) and He (variance 2 / fan_in) draw the weights and
        start the intercepts at zero; a float sigma draws weights and intercepts from
        N(0, sigma^2).

    residual : bool, default=False
        Residual hidden layers: every hidden layer as wide as the hidden layer before it
        computes y[l+1] = y[l] + g(W y[l] + b) (the lecture notes' form). Needs two consecutive
        hidden layers of the same width.

    scoring : str, callable or None, default=None
        Early stopping's validation score (``validation_scores_``, higher is better): None is
        scikit-learn's (accuracy, R²); 'loss' is the validation loss, negated (as in
        scikit-learn's gradient boosting); a scorer name or a callable
        ``scorer(estimator, X, y)`` (:func:`sklearn.metrics.check_scoring`) scores the model
        as it is after each epoch. Used only with ``early_stopping=True``.

    lr_schedule : {'cosine', 'step', 'plateau'} or callable, default=None
        A learning-rate schedule for 'sgd' and 'adam' (None: scikit-learn's ``learning_rate``,
        which applies to 'sgd' only). The rate of each epoch is ``learning_rate_init`` times a
        factor of the epoch e counted after the warm-up, over the E = ``max_iter -
        warmup_epochs`` epochs after it: 'cosine' ½(1 + cos(πe/E)); 'step' 1, then 0.1 from
        the middle of E, then 0.01 from its last quarter; 'plateau' divides the rate by 5 when
        the stopping criterion has not improved by ``tol`` for ``n_iter_no_change`` epochs
        (scikit-learn's 'adaptive', for Adam too) and stops once it is <= 1e-6; a callable
        ``f(epoch) -> factor`` (epoch counted from 0 at the start of the fit) gives the factor
        itself. With 'sgd' it needs ``learning_rate='constant'``. ``fit`` starts the schedule
        over (warm starts included); ``partial_fit`` calls continue it, one epoch each.

    warmup_epochs : int, default=0
        Linear warm-up: epoch k < ``warmup_epochs`` runs at (k + 1) / (warmup_epochs + 1) of
        its scheduled rate. With 'sgd' it needs ``learning_rate='constant'``.

    Attributes (fastnn's additions)
    -------------------------------
    validation_loss_curve_ : list of float or None
        With early stopping, the loss on the validation set after each epoch: the fit's loss
        function, weighted by the validation set's sample weights, without the L2 penalty that
        ``loss_curve_`` includes. None without early stopping.
"""


def documents_extras(own):
    """Class decorator: the estimator's own additions (``own``) and the shared description of
    fastnn's extra parameters, appended to the class docstring."""

    def document(cls):
        cls.__doc__ = cls.__doc__.rstrip() + "\n" + own + EXTRAS_DOC
        return cls

    return document
