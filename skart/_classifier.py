"""ARTClassifier: a scikit-learn classifier that trains a skorch net with ART."""

import copy
import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochTimer,
    LRScheduler,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
)
from skorch.helper import predefined_split

from ._callback import ARTCallback
from ._data import ArrayDataset, BatchIterator
from ._network import MLP
from ._sampler import ClassDistributionSampler

# Parameters of the wrapped net that are given flat, skorch-style, as
# ``<prefix>__<name>``: they reach the module, criterion, optimizer, ...
_ROUTED_PREFIXES = (
    "module__",
    "criterion__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
)


# What X may be, in fit, for the validation set and at prediction.
_X_CHECKS = {
    "accept_sparse": "csr",
    "dtype": (np.float32, np.float64),
    "allow_nd": True,
}


def _softmax(logits):
    return torch.softmax(logits, dim=1)


class _FiniteLossGuard(Callback):
    """Stop training with an error as soon as an epoch's loss is not finite."""

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {len(net.history)}. "
                "The model is broken, so training stopped. Lower `lr`, scale the "
                "features (e.g. StandardScaler) or check the criterion."
            )


class _Net(NeuralNetClassifier):
    """skorch net with ART's defaults: no per-epoch accuracy scorer (ART scores classes)."""

    def _set_training(self, training=True):
        # skorch sets the mode before every batch, and ``Module.train`` walks
        # every submodule: a tenth of a small network's step. Only walk when
        # the mode changes.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def initialize_callbacks(self):
        super().initialize_callbacks()
        # Per-batch hooks of the callbacks that define them: skorch calls every
        # callback's (mostly empty) hook twice per batch.
        self._batch_hooks = {
            hook: [
                cb
                for _, cb in self.callbacks_
                if getattr(type(cb), hook) is not getattr(Callback, hook)
            ]
            for hook in ("on_batch_begin", "on_batch_end", "on_grad_computed")
        }
        return self

    def notify(self, method_name, **cb_kwargs):
        hooks = getattr(self, "_batch_hooks", {}).get(method_name)
        if hooks is None:
            return super().notify(method_name, **cb_kwargs)
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in hooks:
            getattr(cb, method_name)(self, **cb_kwargs)
        return None

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # Decided once per fit, not per batch: the lean step below is safe when
        # no callback listens to gradients and every optimiser is a torch
        # built-in that takes no closure (LBFGS needs one).
        self._lean_step = not self._batch_hooks["on_grad_computed"] and all(
            type(opt).__module__.startswith("torch.optim.")
            and not isinstance(opt, torch.optim.LBFGS)
            for opt in (getattr(self, name + "_") for name in self._optimizers)
        )

    def train_step(self, batch, **fit_params):
        # skorch runs each step as an optimiser closure (for LBFGS), through a
        # step accumulator, and builds the on_grad_computed arguments even when
        # no callback listens. The same step without that machinery costs ~3%
        # less per batch; anything that needs it takes skorch's path.
        if not getattr(self, "_lean_step", False):
            return super().train_step(batch, **fit_params)
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self._step_optimizer(None)
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch's loop, except that the batch size of our (tensor, tensor)
        # batches is read with len() rather than the generic get_len(), which
        # walks nested containers (~2% of a small network's step).
        if not isinstance(iterator, BatchIterator) or not isinstance(
            iterator.dataset, ArrayDataset
        ):
            return super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )
        history = self.history
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            history.record_batch(prefix + "_loss", step["loss"].item())
            history.record_batch(prefix + "_batch_size", len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        history.record(prefix + "_batch_count", batch_count)
        return None

    @property
    def _default_callbacks(self):
        log = ProgressBar() if self.verbose > 1 else None
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            *([("progress_bar", log)] if log else []),
            ("print_log", PrintLog(keys_ignored=["class_scores", "p", "art_refresh"])),
        ]


def _accepts(factory, name):
    """Whether a class (or callable) takes a keyword argument ``name``."""
    try:
        return name in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def _stratified_split(y, fraction, rng):
    """Split rows into train and validation, stratified, keeping every class in train.

    Class k gives ``round(fraction * n_k)`` rows to validation, at most
    ``n_k - 1``: a class of one row stays in training, and a class too small
    for one validation row is absent from the validation fold (ART then gives
    it a neutral weight). sklearn's stratified splitters refuse such classes.
    """
    counts = np.bincount(y)
    n_valid = np.clip(np.floor(fraction * counts + 0.5), 0, np.maximum(counts - 1, 0))
    if n_valid.sum() == 0:
        raise ValueError(
            f"validation_fraction={fraction} leaves the validation fold empty for "
            f"{len(y)} samples with class counts {counts.tolist()}: ART and early "
            "stopping need validation rows. Pass more samples or a larger "
            "validation_fraction."
        )
    order = rng.permutation(len(y))
    order = order[np.argsort(y[order], kind="stable")]  # random order within class
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(len(y)) - starts[y[order]]
    is_valid = rank < n_valid[y[order]]
    return np.sort(order[~is_valid]), np.sort(order[is_valid])


class ARTClassifier(ClassifierMixin, BaseEstimator):
    """Neural network classifier trained with Adaptive Resampling-based Training.

    ART watches the network while it trains. Every ``bf`` epochs it scores
    each class on an internal, stratified validation fold (F1 by default),
    turns the scores into difficulties ``s_i = 1 - f_i``, normalises them to
    ``w_i = s_i / sum(s)``, blends them with the empirical class prior,
    ``p = c * prior + (1 - c) * w``, and draws the following epochs'
    minibatches by class according to ``p``.

    The network is a skorch :class:`~skorch.NeuralNetClassifier` built at
    ``fit`` (``net_``). By default it is an :class:`MLP` trained with AdamW, a
    cosine-annealed learning rate and early stopping on the validation loss
    that restores the best weights. Any :class:`torch.nn.Module` returning
    logits, and any criterion, can replace them. Parameters of the module,
    criterion, optimizer, iterators and callbacks are given flat, as in
    skorch: ``module__hidden_units=(128, 64)``, ``optimizer__weight_decay=0``;
    ``GridSearchCV`` and ``set_params`` reach them under the same names.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The network; it must return logits of shape ``(n, n_classes)``.
        ``None`` means :class:`MLP`. A class whose ``__init__`` takes
        ``n_features`` or ``n_classes`` gets them from the data unless they
        are set as ``module__n_features`` / ``module__n_classes``.
    c : float in [0, 1], default=0.5
        Weight of the empirical class prior in the sampling distribution;
        ``c=1`` samples by the prior, ``c=0`` by difficulty alone.
    bf : int >= 1, default=1
        Boost frequency: epochs between two refreshes of the distribution.
    metric : {"f1", "recall", "precision"} or callable, default="f1"
        Per-class control metric on the validation fold. A callable is called
        as ``metric(y_true, y_pred, labels=labels)`` with class indices and
        must return one score in [0, 1] per class (higher is better), e.g.
        ``functools.partial(fbeta_score, beta=2, average=None, zero_division=0)``.
    art : bool, default=True
        Resample with ART. ``False`` trains the same network on the same
        folds with plain shuffling: the baseline that isolates ART's effect
        (the per-class metric is still recorded in the history).
    validation_fraction : float in (0, 1), default=0.15
        Share of each class held out for the validation fold, used by ART and
        early stopping. A class too small for one validation row stays whole
        in training and gets a neutral weight.
    criterion : torch.nn.Module class or instance, default=None
        Loss on ``(logits, target)``. ``None`` means cross-entropy. A class
        whose ``__init__`` takes ``class_counts`` gets the training fold's
        class counts (see :mod:`skart.losses`).
    optimizer : torch.optim.Optimizer class, default=torch.optim.AdamW
        AdamW and Adam run fused kernels unless ``optimizer__fused`` is set.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=100
        Maximum number of epochs.
    batch_size : int, default=128
        Training minibatch size. Validation and prediction run in batches of
        ``4 * batch_size`` unless ``iterator_valid__batch_size`` is set.
    patience : int or None, default=10
        Early stopping patience in epochs on the validation loss (the best
        weights are restored); ``None`` trains for ``max_epochs``.
    lr_schedule : {"cosine"} or None, default="cosine"
        Cosine annealing of the learning rate over ``max_epochs``.
    device : str or torch.device, default="cpu"
        Where the network trains. With a GPU, dense training data are moved
        there once and batches are indexed in place.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra callbacks, run after ART's.
    verbose : int, default=0
        0 is silent, 1 prints an epoch table (with ART's refreshes: the class
        with the largest sampling share), 2 adds a progress bar.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the sampling and torch (initial weights, dropout) so
        that ``fit`` is reproducible on CPU.
    **kwargs
        Routed parameters: ``module__*``, ``criterion__*``, ``optimizer__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features (size of the second dimension) seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` is a DataFrame with string column names.
    net_ : skorch.NeuralNetClassifier
        The fitted net.
    history_ : skorch.History
        One row per epoch: ``train_loss``, ``valid_loss``, ``class_scores``,
        ``valid_<metric>``, and with ART ``p`` (the distribution the epoch
        drew from) and ``art_refresh``. ``history_[:, "valid_loss"]`` slices it.
    class_counts_ : ndarray of shape (n_classes,)
        Rows per class in the training fold.
    sampling_distribution_ : ndarray of shape (n_classes,)
        Class distribution in force at the end of training (the training
        fold's prior when ``art=False``).
    n_iter_ : int
        Epochs run.

    See Also
    --------
    ARTCallback : The ART update as a skorch callback, for nets of your own.
    ClassDistributionSampler : The class-distribution sampler.

    References
    ----------
    .. [1] ART: Adaptive Resampling-based Training for Imbalanced
       Classification, arXiv:2509.00955, 2025.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skart import ARTClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = ARTClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> len(clf.history_[0, "p"])
    2
    """

    _parameter_constraints: dict = {
        "module": [None, type, HasMethods(["forward"])],
        "c": [Interval(Real, 0, 1, closed="both")],
        "bf": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"f1", "recall", "precision"}), callable],
        "art": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "criterion": [None, type, HasMethods(["forward"])],
        "optimizer": [callable],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "patience": [None, Interval(Integral, 1, None, closed="left")],
        "lr_schedule": [None, StrOptions({"cosine"})],
        "device": [str, torch.device],
        "callbacks": [None, list],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        module=None,
        *,
        c=0.5,
        bf=1,
        metric="f1",
        art=True,
        validation_fraction=0.15,
        criterion=None,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=100,
        batch_size=128,
        patience=10,
        lr_schedule="cosine",
        device="cpu",
        callbacks=None,
        verbose=0,
        random_state=None,
        **kwargs,
    ):
        self.module = module
        self.c = c
        self.bf = bf
        self.metric = metric
        self.art = art
        self.validation_fraction = validation_fraction
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.device = device
        self.callbacks = callbacks
        self.verbose = verbose
        self.random_state = random_state
        # Stored as they come, like skorch; their names are checked in fit.
        vars(self).update(kwargs)

    # -- parameters ---------------------------------------------------------

    def _extra_params(self):
        # Keyword arguments beyond the signature: public, non-fitted attributes.
        named = self._get_param_names()
        return {
            k: v
            for k, v in vars(self).items()
            if k not in named and not k.startswith("_") and not k.endswith("_")
        }

    def _routed_params(self):
        extra = self._extra_params()
        unknown = [k for k in extra if not k.startswith(_ROUTED_PREFIXES)]
        if unknown:
            raise ValueError(
                f"ARTClassifier got unknown parameters {unknown}. Its own "
                f"parameters are {self._get_param_names()}; parameters of the "
                f"network go flat with one of the prefixes {', '.join(_ROUTED_PREFIXES)} "
                "(e.g. module__hidden_units=(128, 64))."
            )
        return extra

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._extra_params())
        return params

    def set_params(self, **params):
        routed = {k: v for k, v in params.items() if k.startswith(_ROUTED_PREFIXES)}
        vars(self).update(routed)
        super().set_params(**{k: v for k, v in params.items() if k not in routed})
        return self

    # -- fit ----------------------------------------------------------------

    def _to_tensor(self, X):
        if sp.issparse(X):
            return sp.csr_matrix(X, dtype=np.float32)
        return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))

    def _build_net(self, n_features, class_counts, sampler, seed, valid_ds):
        routed = self._routed_params()
        # Instances are copied: training must not touch the objects we were given.
        module = MLP if self.module is None else copy.deepcopy(self.module)
        if _accepts(module, "n_features"):
            routed.setdefault("module__n_features", n_features)
        if _accepts(module, "n_classes"):
            routed.setdefault("module__n_classes", len(class_counts))
        criterion = (
            torch.nn.CrossEntropyLoss
            if self.criterion is None
            else copy.deepcopy(self.criterion)
        )
        if isinstance(criterion, torch.nn.Module):
            # skorch uses an instance as it is; fill its counts in place (it is our copy).
            if getattr(criterion, "class_counts", False) is None:
                criterion.class_counts = torch.as_tensor(
                    class_counts, dtype=torch.float32
                )
        elif _accepts(criterion, "class_counts"):
            routed.setdefault("criterion__class_counts", class_counts)
        # Fused Adam(W) kernels: the optimiser step is a third of a small net's step.
        fusable = self.optimizer in (torch.optim.AdamW, torch.optim.Adam)
        if fusable and torch.device(self.device).type in ("cpu", "cuda"):
            if "optimizer__foreach" not in routed:  # torch refuses both
                routed.setdefault("optimizer__fused", True)
        # Evaluation keeps no activations for backward: larger batches cost no
        # more memory than training does and take less Python per row.
        routed.setdefault("iterator_valid__batch_size", 4 * self.batch_size)
        callbacks = [
            ("art", ARTCallback(sampler, c=self.c, bf=self.bf, metric=self.metric))
        ]
        if self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_scheduler",
                    LRScheduler(
                        policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                        T_max=self.max_epochs,
                    ),
                )
            )
        if self.patience is not None:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(patience=self.patience, load_best=True),
                )
            )
        callbacks.append(("finite_loss", _FiniteLossGuard()))
        callbacks += copy.deepcopy(list(self.callbacks or []))
        return _Net(
            module=module,
            criterion=criterion,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=BatchIterator,
            iterator_valid=BatchIterator,
            iterator_train__shuffle=True,
            iterator_train__sampler=sampler,
            iterator_train__random_state=seed,
            train_split=predefined_split(valid_ds),
            callbacks=callbacks,
            predict_nonlinearity=_softmax,
            device=self.device,
            verbose=self.verbose,
            **routed,
        )

    def _dataset(self, X, y):
        X = self._to_tensor(X)
        device = torch.device(self.device)
        return ArrayDataset(
            X if sp.issparse(X) else X.to(device),
            torch.from_numpy(y.astype(np.int64)).to(device),
        )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_val=None, y_val=None):
        """Train the network with ART.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...)
            Training data: a 2-d array or DataFrame, a CSR matrix (densified
            per batch), or an n-d array for a custom module.
        y : array-like of shape (n_samples,)
            Class labels of any type ``LabelEncoder`` accepts.
        X_val : {array-like, sparse matrix} of shape (n_val, ...), default=None
            A validation set of your own for ART's scores and early stopping.
            ``None`` holds out ``validation_fraction`` of each class of ``X``.
        y_val : array-like of shape (n_val,), default=None
            Labels of ``X_val``, all among the labels of ``y``.

        Returns
        -------
        self : ARTClassifier
            The fitted classifier.
        """
        self._routed_params()  # unknown names fail before any work
        X, y = validate_data(self, X, y, **_X_CHECKS)
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "ARTClassifier needs samples of at least 2 classes; got 1 class: "
                f"{self.classes_.tolist()}."
            )
        rng = check_random_state(self.random_state)
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        if X_val is None:
            train_idx, valid_idx = _stratified_split(
                y_enc, self.validation_fraction, rng
            )
            X_tr, y_tr, X_va, y_va = (
                X[train_idx],
                y_enc[train_idx],
                X[valid_idx],
                y_enc[valid_idx],
            )
        else:
            X_va = validate_data(self, X_val, reset=False, **_X_CHECKS)
            y_val = column_or_1d(y_val)
            unseen = np.setdiff1d(y_val, self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y_val has labels {unseen.tolist()} that are not in y; the "
                    "validation set may only hold classes seen in training."
                )
            X_tr, y_tr, y_va = X, y_enc, np.searchsorted(self.classes_, y_val)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        train_ds, valid_ds = self._dataset(X_tr, y_tr), self._dataset(X_va, y_va)
        self.class_counts_ = np.bincount(y_tr, minlength=len(self.classes_))
        sampler = (
            ClassDistributionSampler(
                y_tr, n_classes=len(self.classes_), random_state=seed
            )
            if self.art
            else None
        )
        n_features = int(np.prod(X.shape[1:]))
        self.net_ = self._build_net(
            n_features, self.class_counts_, sampler, seed, valid_ds
        )
        device = torch.device(self.device)
        devices = []
        if device.type == "cuda":
            devices = [
                torch.cuda.current_device() if device.index is None else device.index
            ]
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            self.net_.fit(train_ds, None)
        # The net holds the validation fold (train_split) and the sampler holds
        # the training labels: a fitted model must not carry them into pickles.
        self.net_.train_split = None
        self.net_.iterator_train__sampler = None
        dict(self.net_.callbacks_)["art"].sampler = None
        self.sampling_distribution_ = (
            sampler.p
            if sampler is not None
            else self.class_counts_ / self.class_counts_.sum()
        )
        self.n_iter_ = len(self.net_.history)
        return self

    @property
    def history_(self):
        """Per-epoch history of the fitted net (``net_.history``)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    # -- predict ------------------------------------------------------------

    def predict_proba(self, X):
        """Class probabilities: the softmax of the network's logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...)
            Samples, in the form given to ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, **_X_CHECKS)
        with warnings.catch_warnings():
            # The net only sees tensors; keep skorch quiet about it.
            warnings.simplefilter("ignore", UserWarning)
            proba = self.net_.predict_proba(ArrayDataset(self._to_tensor(X)))
        proba = proba.astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...)
            Samples, in the form given to ``fit``.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
