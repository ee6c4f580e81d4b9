"""Callbacks of the core: per-class validation scores, probability scores
for ``monitor``, the finite-loss guard and loss-or-metric early stopping.

Two attributes tell the core's net what a callback needs:
``reads_batch_loss = False`` says that its ``on_batch_end`` does not read the
batch's loss from the history during the epoch (so the net may read the
losses once per epoch, without a device sync per batch); a callback that does
not say so is assumed to read it. ``log_keys_ignored`` names the history keys
it records that the printed log should leave out. A callback that holds
references to the fit's data drops them in ``release_fit_data()``.
"""

import copy
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    average_precision_score,
    get_scorer,
    get_scorer_names,
    log_loss,
    roc_auc_score,
)
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import unpack_data

from .._metrics import class_scores, scores_from_counts
from .._validation import accepts


class ClassScoring(Callback):
    """Score every class on the validation fold at the end of each epoch.

    During the validation pass it counts, per class, the true positives,
    predictions and true rows of the validation batches, from the logits the
    net already computed for its validation loss (no second forward pass);
    with a callable metric, weights or several processes it keeps the
    predicted and true class of every row instead. Each epoch's history row
    gets ``class_scores`` (one score per class, NaN for a class with no
    validation row) and ``valid_<metric>`` (their mean).

    Parameters
    ----------
    metric : {"f1", "recall", "precision"} or callable, default="f1"
        Per-class metric; see :func:`skart._metrics.class_scores`.
    sample_weight : torch.Tensor of shape (n_valid,), default=None
        Weights of the validation rows, in the order the validation iterator
        yields them (it must not shuffle). ``None`` counts rows.
    distributed : bool, default=False
        Each rank validates on its own shard and the scores are those of the
        whole fold (counts summed, or predictions gathered, over the ranks).
    """

    reads_batch_loss = False
    log_keys_ignored = ("class_scores",)

    def __init__(self, metric="f1", *, sample_weight=None, distributed=False):
        self.metric = metric
        self.sample_weight = sample_weight
        self.distributed = distributed

    def initialize(self):
        self.y_true_, self.y_pred_, self.counts_ = [], [], None
        return self

    @property
    def metric_name(self):
        """Name of the metric in the history: ``valid_<metric_name>``."""
        if not callable(self.metric):
            return self.metric
        func = getattr(self.metric, "func", self.metric)  # unwrap functools.partial
        return getattr(func, "__name__", "metric")

    def on_train_begin(self, net, **kwargs):
        self._support = None  # the validation rows per class, once per fit

    def on_epoch_begin(self, net, **kwargs):
        self.y_true_, self.y_pred_, self.counts_ = [], [], None

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        yi = unpack_data(batch)[1]
        self.n_classes_ = y_pred.shape[1]  # logits are (B, K)
        pred = y_pred.detach().argmax(dim=1)  # (B,)
        true = torch.as_tensor(yi, device=y_pred.device)  # (B,)
        if callable(self.metric) or self.sample_weight is not None or self.distributed:
            self.y_pred_.append(pred)
            self.y_true_.append(true)
            return
        # Integer counts add up exactly, batch by batch: the epoch's scores are
        # those of all rows at once, in O(K) memory instead of O(n_valid).
        # index_add_ into a fixed (3, K), not bincount, which waits for a GPU.
        if self.counts_ is None:
            self.counts_ = torch.zeros(
                3, self.n_classes_, dtype=torch.int64, device=pred.device
            )
        ones = torch.ones_like(true, dtype=torch.int64)
        self.counts_[0].index_add_(0, true, (true == pred).long())  # tp
        self.counts_[1].index_add_(0, pred, ones)  # predicted
        self.counts_[2].index_add_(0, true, ones)  # true

    def on_epoch_end(self, net, **kwargs):
        self._score_epoch(net)

    def release_fit_data(self):
        """Drop the references to the fit's validation weights."""
        self.sample_weight = None

    def _score_epoch(self, net):
        """Record this epoch's scores; return ``(scores, support)``, or None
        (with a warning) when no validation batch was seen."""
        if not (self.distributed or self.y_true_ or self.counts_ is not None):
            warnings.warn(
                f"{type(self).__name__} saw no validation batch: without a "
                "validation split it cannot score classes"
                + self._no_validation_consequence()
                + ".",
                UserWarning,
                stacklevel=3,
            )
            return None
        scores, support = self._scores()
        self.y_true_, self.y_pred_, self.counts_ = [], [], None
        history = net.history
        history.record("class_scores", scores.tolist())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN mean
            history.record(f"valid_{self.metric_name}", float(np.nanmean(scores)))
        return scores, support

    def _no_validation_consequence(self):
        return ""

    def _needs_support(self):
        """Whether the epoch's scores come with the fold's rows per class."""
        return False

    def _known_n_classes(self):
        """The number of classes when this rank saw no validation batch."""
        return None

    def _scores(self):
        """This epoch's per-class scores on the validation fold (of every rank),
        and the fold's rows per class when :meth:`_needs_support` (else None)."""
        w = self.sample_weight
        if self.counts_ is not None:  # built-in metric, unweighted, one process
            tp, n_pred, n_true = self.counts_.cpu().numpy()
            scores = scores_from_counts(tp, n_pred, n_true, metric=self.metric)
            return scores, n_true.astype(np.float64)
        if not self.distributed:
            y_true = torch.cat(self.y_true_)
            n_classes = self.n_classes_
            scores = class_scores(
                y_true, torch.cat(self.y_pred_), n_classes, self.metric, w
            )
        else:
            # Imported here: the module needs torch.distributed, which a
            # non-distributed callback never touches.
            from ._distributed import global_class_scores

            n_classes = getattr(self, "n_classes_", None)
            if n_classes is None:
                n_classes = self._known_n_classes()
            if n_classes is None:
                raise RuntimeError(
                    f"{type(self).__name__}(distributed=True) saw no validation "
                    "batch on this rank and has no sampler to give the number of "
                    "classes; give every rank a validation row, or pass the sampler."
                )
            empty = torch.empty(0, dtype=torch.int64)
            y_true = torch.cat(self.y_true_) if self.y_true_ else empty
            y_pred = torch.cat(self.y_pred_) if self.y_pred_ else empty
            scores = global_class_scores(
                y_true, y_pred.to(y_true.device), n_classes, self.metric, w
            )
        if not self._needs_support():
            return scores, None
        # The validation fold is the same at every epoch of a fit: its support
        # is counted (and, under DDP, all-gathered) at the first epoch only.
        if getattr(self, "_support", None) is None:
            support = torch.bincount(y_true, weights=w, minlength=n_classes)
            support = support.double().cpu().numpy()
            if self.distributed:
                from ._distributed import gather_sum

                support = gather_sum(support)
            self._support = support
        return scores, self._support


# What ``monitor`` may name besides a scorer or a callable: the core's own
# rules, and the probability metrics skart scores itself.
CORE_MONITORS = ("loss", "metric", "loss_or_metric")
PROBA_METRICS = ("average_precision", "roc_auc", "log_loss")


class MonitorOptions:
    """The constraint of ``monitor`` (a :mod:`skart._params` constraint).

    A string among the core's rules and skart's probability metrics, or the
    name of a scikit-learn scorer; the callable is a constraint of its own.
    """

    def is_satisfied_by(self, val):
        """Whether ``val`` is a name ``monitor`` accepts.

        Parameters
        ----------
        val : object
            The value to check.

        Returns
        -------
        bool
            True when the constraint holds.
        """
        if not isinstance(val, str):
            return False
        return val in CORE_MONITORS or val in PROBA_METRICS or val in get_scorer_names()

    def __str__(self):
        names = ", ".join(repr(n) for n in sorted(CORE_MONITORS + PROBA_METRICS))
        return (
            f"a str among {{{names}}}, the name of a scikit-learn scorer "
            "(sklearn.metrics.get_scorer_names())"
        )


def is_proba_monitor(monitor):
    """Whether ``monitor`` scores the validation fold's probabilities
    (:class:`ProbaScoring`) rather than naming one of the core's rules."""
    return callable(monitor) or monitor not in CORE_MONITORS


class _Probabilities(ClassifierMixin, BaseEstimator):
    """What a scikit-learn scorer scores: an epoch's validation probabilities.

    The probabilities are given as ``X``: ``predict_proba(X)`` returns them
    and ``predict(X)`` their argmax, over the encoded classes
    ``0, ..., n_classes - 1``.
    """

    def __init__(self, n_classes=2):
        self.n_classes = n_classes

    def fit(self, X=None, y=None):
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X):
        return np.asarray(X)

    def predict(self, X):
        return self.classes_[np.argmax(X, axis=1)]


def _one_vs_rest(score, y_true, proba, sample_weight, both_sides):
    """``score`` of class 1 (two classes) or the macro mean one-vs-rest over
    the classes it is defined for: those with a validation row (of positive
    weight), and, with ``both_sides``, a row of another class too. NaN when
    it is defined for none."""
    n_classes = proba.shape[1]
    counted = np.ones(len(y_true), dtype=bool)
    if sample_weight is not None:
        counted = sample_weight > 0
    scores = []
    for k in [1] if n_classes == 2 else range(n_classes):
        hits = y_true == k
        if not (hits & counted).any():
            continue
        if both_sides and not (~hits & counted).any():
            continue
        scores.append(score(hits, proba[:, k], sample_weight=sample_weight))
    return float(np.mean(scores)) if scores else float("nan")


def proba_score(monitor, y_true, proba, sample_weight=None):
    """Score one epoch's validation probabilities as ``monitor`` says.

    Parameters
    ----------
    monitor : str or callable
        ``"average_precision"`` or ``"roc_auc"`` (of class 1 for two classes,
        else the macro mean one-vs-rest over the classes each is defined
        for), ``"log_loss"``, a scikit-learn scorer name, or a callable
        ``monitor(y_true, proba)`` (given ``sample_weight=`` too when it takes
        it and the rows are weighted).
    y_true : ndarray of shape (n_rows,)
        Class indices.
    proba : ndarray of shape (n_rows, n_classes)
        Rows that sum to 1.
    sample_weight : ndarray of shape (n_rows,), default=None
        Weights of the rows; a scorer whose metric takes none scores the rows
        unweighted (with a warning).

    Returns
    -------
    score : float
        NaN where the metric is not defined on these rows.
    """
    w = sample_weight
    if monitor == "average_precision":
        return _one_vs_rest(average_precision_score, y_true, proba, w, False)
    if monitor == "roc_auc":
        return _one_vs_rest(roc_auc_score, y_true, proba, w, True)
    labels = np.arange(proba.shape[1])
    if monitor == "log_loss":
        return float(log_loss(y_true, proba, labels=labels, sample_weight=w))
    if callable(monitor):
        if w is not None and accepts(monitor, "sample_weight"):
            return float(monitor(y_true, proba, sample_weight=w))
        return float(monitor(y_true, proba))
    scorer = get_scorer(monitor)
    estimator = _Probabilities(len(labels)).fit()
    if w is None:
        return float(scorer(estimator, proba, y_true))
    try:
        return float(scorer(estimator, proba, y_true, sample_weight=w))
    except TypeError as exc:
        if "sample_weight" not in str(exc):
            raise
    warnings.warn(
        f"The metric of the scorer {monitor!r} takes no sample_weight: "
        "monitor scores the validation fold unweighted.",
        UserWarning,
        stacklevel=2,
    )
    return float(scorer(estimator, proba, y_true))


class ProbaScoring(Callback):
    """Score the validation fold's class probabilities once per epoch.

    During the validation pass it keeps the softmax of the logits the net
    already computed for its validation loss (no second forward pass), as
    :class:`ClassScoring` keeps their argmax, and at the end of the epoch it
    records ``valid_<name>``, the score :func:`proba_score` gives them, for
    early stopping and the best epoch to read. A score not defined on the
    fold (``roc_auc`` without a validation row of the positive class, say)
    is recorded as NaN, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`
    once per training run; such an epoch never counts as an improvement.

    Parameters
    ----------
    monitor : str or callable
        As for :func:`proba_score`.
    sample_weight : torch.Tensor of shape (n_valid,), default=None
        Weights of the validation rows, in the order the validation iterator
        yields them (it must not shuffle). ``None`` counts rows.
    distributed : bool, default=False
        Each rank validates on its own shard; the rows of every rank are
        gathered and scored together, the same bits on every rank.
    """

    reads_batch_loss = False

    def __init__(self, monitor, *, sample_weight=None, distributed=False):
        self.monitor = monitor
        self.sample_weight = sample_weight
        self.distributed = distributed

    @property
    def name(self):
        """The score's name in the history: ``valid_<name>``.

        A callable's ``__name__`` (``"monitor"`` for a lambda).
        """
        if not callable(self.monitor):
            return self.monitor
        func = getattr(self.monitor, "func", self.monitor)  # unwrap functools.partial
        name = getattr(func, "__name__", "")
        return name if name.isidentifier() else "monitor"

    @property
    def key(self):
        """The history key of the score."""
        return f"valid_{self.name}"

    @property
    def lower_is_better(self):
        """True for ``"log_loss"``; scorers and callables are greater-is-better."""
        return self.monitor == "log_loss"

    def initialize(self):
        self.y_true_, self.proba_ = [], []
        return self

    def on_train_begin(self, net, **kwargs):
        self._warned = False

    def on_epoch_begin(self, net, **kwargs):
        self.y_true_, self.proba_ = [], []

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        yi = unpack_data(batch)[1]
        # As predict_proba computes them: the net's softmax, batch by batch.
        self.proba_.append(torch.softmax(y_pred.detach(), dim=1))  # (B, K)
        self.y_true_.append(torch.as_tensor(yi, device=y_pred.device))  # (B,)

    def on_epoch_end(self, net, **kwargs):
        history = net.history
        if self.key in history[-1]:
            raise ValueError(
                f"monitor={self.monitor!r} records its score as {self.key!r}, "
                "which another score of the history has taken already; give "
                "the callable another name."
            )
        y_true, proba, w = self._rows()
        self.y_true_, self.proba_ = [], []
        score = float("nan")  # no validation row (ClassScoring warns)
        if len(y_true):
            try:
                score = proba_score(self.monitor, y_true, proba, w)
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"monitor={self.monitor!r} could not score epoch "
                    f"{len(history)} on the validation fold: {exc}"
                ) from exc
        if np.isnan(score) and not self._warned:
            self._warned = True
            warnings.warn(
                f"monitor={self.monitor!r} is not defined on the validation fold "
                f"at epoch {len(history)} (e.g. roc_auc needs validation rows of "
                "the positive class and of another): NaN is recorded, and such "
                "an epoch never counts as an improvement for early stopping or "
                "the best epoch. Pass X_val and y_val with rows of every class, "
                "raise validation_fraction, or monitor another score.",
                UndefinedMetricWarning,
                stacklevel=2,
            )
        history.record(self.key, score)

    def release_fit_data(self):
        """Drop the references to the fit's validation weights and rows."""
        self.sample_weight = None
        self.y_true_, self.proba_ = [], []

    def _rows(self):
        """This epoch's labels, probabilities (float64 rows that sum to 1, as
        ``predict_proba`` returns them) and weights, of every rank."""
        empty = torch.empty(0, dtype=torch.int64)
        y_true = torch.cat(self.y_true_).cpu() if self.y_true_ else empty
        proba = torch.cat(self.proba_).cpu() if self.proba_ else None
        w = None if self.sample_weight is None else self.sample_weight.cpu()
        if self.distributed:
            import torch.distributed as dist

            from ._distributed import collective

            local = [y_true, proba, w]
            parts = [None] * dist.get_world_size()
            with collective("gathering the validation probabilities"):
                dist.all_gather_object(parts, local)
            y_true = torch.cat([p[0] for p in parts])
            shards = [p[1] for p in parts if p[1] is not None]
            proba = torch.cat(shards) if shards else None
            if w is not None:
                w = torch.cat([p[2] for p in parts])
        if proba is None:
            return y_true.numpy(), None, None
        proba = proba.numpy().astype(np.float64)
        proba /= proba.sum(axis=1, keepdims=True)
        return y_true.numpy(), proba, None if w is None else w.double().numpy()


class ScoreStopping(EarlyStopping):
    """skorch's early stopping whose relative threshold holds for negative
    scores too (``neg_brier_score``): an improvement beats the best score by
    ``threshold * |best|``, whatever its sign."""

    def _calc_new_threshold(self, score):
        if self.threshold_mode != "rel":
            return super()._calc_new_threshold(score)
        change = self.threshold * abs(score)
        return score - change if self.lower_is_better else score + change


class FiniteLossGuard(Callback):
    """Stop training with an error as soon as an epoch's loss is not finite."""

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {len(net.history)}. "
                "The model is broken, so training stopped. Lower `lr`, scale the "
                "features (e.g. StandardScaler) or check the criterion."
            )


class KeepBestEpoch(EarlyStopping):
    """Keep the weights of the best epoch by ``monitor``; restore them at the end.

    It never stops training. The first epoch of a training run is the best so
    far whatever its score; a later one is the best when its score is
    strictly better (a NaN never is). The weights are kept and restored as
    skorch's ``EarlyStopping(load_best=True)`` keeps and restores them, the
    one way skart keeps a best epoch; a subclass keeps more of the best
    epoch's state in :meth:`on_best_epoch`.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        The history key of the epoch's score.
    lower_is_better : bool, default=True
        Whether a lower score is better.
    sink : callable, default=print
        Where the restoring message goes when the net is verbose.
    """

    def __init__(self, monitor="valid_loss", *, lower_is_better=True, sink=print):
        super().__init__(
            monitor=monitor,
            patience=None,
            threshold=0.0,
            threshold_mode="abs",
            lower_is_better=lower_is_better,
            sink=sink,
            load_best=True,
        )

    def _is_score_improved(self, score):
        return self.best_model_weights_ is None or super()._is_score_improved(score)

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        if self.best_epoch_ == net.history[-1, "epoch"]:
            self.on_best_epoch(net)

    def on_best_epoch(self, net):
        """Keep more of the state of a new best epoch (nothing here)."""

    def release_fit_data(self):
        """Drop the kept weights: a fitted model does not carry them."""
        self.best_model_weights_ = None


class LossOrMetricStopping(EarlyStopping):
    """Stop once neither the validation loss nor the metric has improved for
    ``patience`` epochs; restore the weights of the best metric epoch.

    Stopping on the metric alone ends training on the plateau of the first
    epochs, where the network predicts the majority class and the macro
    metric does not move while the loss still falls.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_loss_ = np.inf

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "valid_loss"]
        best = self.best_loss_
        # The relative threshold of EarlyStopping, on the loss.
        loss_improved = not np.isfinite(best) or loss < best - self.threshold * abs(
            best
        )
        if loss_improved:
            self.best_loss_ = loss
        score = net.history[-1, self.monitor]
        if self._is_score_improved(score):
            self.misses_ = 0
            self.dynamic_threshold_ = self._calc_new_threshold(score)
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.load_best:
                self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())
        elif loss_improved:
            self.misses_ = 0
        else:
            self.misses_ += 1
        if self.misses_ == self.patience:
            raise KeyboardInterrupt
