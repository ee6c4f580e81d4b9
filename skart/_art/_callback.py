"""The skorch callback that runs ART's update during training."""

import numpy as np

from .._nn._callbacks import ClassScoring
from ._update import art_distribution


class ARTCallback(ClassScoring):
    """Adaptive Resampling-based Training as a skorch callback.

    During each validation pass the callback counts, per class, the true
    positives, predictions and true rows of the validation batches, from the
    logits the net already computed for its validation loss (no second
    forward pass); with a callable metric or weights it keeps the predicted
    and true class of every row instead. At the end of
    the epoch it scores every class (F1 by default), records the scores in the
    history, and at epochs ``bf, 2*bf, ...`` sets the sampler's distribution
    to ``p = c * prior + (1 - c) * w`` with ``w`` the normalised difficulties
    ``1 - score``. Training starts from ``w`` uniform.

    Add it to any skorch net whose training iterator draws from a
    :class:`ClassDistributionSampler` (``iterator_train__sampler=sampler``)
    and which has a validation split.

    Parameters
    ----------
    sampler : ClassDistributionSampler or None
        The sampler to update; its class counts give the prior. ``None``
        scores and records the classes but resamples nothing, which gives a
        baseline the same history as an ART run.
    c : float in [0, 1], default=0.5
        Weight of the empirical prior in the blend.
    bf : int >= 1, default=1
        Boost frequency: epochs between refreshes.
    metric : {"f1", "recall", "precision"} or callable, default="f1"
        Per-class control metric; see :func:`skart._metrics.class_scores`.
    smooth : float >= 0, default=1.0
        Before the update, each class's score is shrunk towards the mean
        score of the scored classes with a prior worth ``smooth`` validation
        rows: ``(n * f + smooth * mean(f)) / (n + smooth)`` for a class of
        ``n`` rows (see :func:`art_distribution`). A class with one missed
        validation row then no longer takes the largest sampling share on
        that one prediction. The history keeps the raw scores. 0 turns it off.
    sample_weight : torch.Tensor of shape (n_valid,), default=None
        Weights of the validation rows, in the order the validation iterator
        yields them (it must not shuffle): the class scores count each row
        with its weight. ``None`` counts rows.
    distributed : bool, default=False
        Data-parallel training with ``torch.distributed`` (one net per rank,
        an initialised default process group): each rank validates on its
        own shard of the validation fold, and the class scores are those of
        the whole fold (per-class counts summed over the ranks; a callable
        metric gathers the predictions), so ``p`` is the same on every rank.
        The sampler must be sharded (``num_replicas``, ``rank``); the
        callback calls its ``set_epoch`` at the start of every epoch. Every
        rank must run the validation pass (a rank with an empty shard takes
        part all the same).

    Notes
    -----
    Each epoch's history row gets ``class_scores`` (one score per class, NaN
    for a class with no validation row), ``valid_<metric>`` (their mean), and,
    with a sampler, ``p`` (the class distribution the epoch's batches were
    drawn from) and ``art_refresh`` (whether ``p`` was updated at its end).

    A class with no validation row cannot be scored; it receives the mean
    difficulty of the scored classes (see :func:`skart.difficulty_weights`)
    instead of the maximum one, which a score of 0 would give it for the whole
    run. A class that has validation rows but is never predicted scores 0.

    References
    ----------
    .. [1] ART: Adaptive Resampling-based Training for Imbalanced
       Classification, arXiv:2509.00955, 2025.

    Examples
    --------
    ART in a skorch net of your own: the sampler draws the training rows (the
    rows of the training fold, so the split is fixed here), the callback
    updates it from the validation fold.

    >>> import numpy as np, torch
    >>> from skorch import NeuralNetClassifier
    >>> from skorch.helper import predefined_split
    >>> from skart import MLP, ARTCallback, ArrayDataset, ClassDistributionSampler
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(3, size=300, p=[0.8, 0.15, 0.05])
    >>> X = (rng.normal(size=(300, 4)) + y[:, None]).astype(np.float32)
    >>> valid = ArrayDataset(torch.from_numpy(X[250:]), torch.from_numpy(y[250:]))
    >>> sampler = ClassDistributionSampler(y[:250], random_state=0)
    >>> net = NeuralNetClassifier(
    ...     MLP, module__n_features=4, module__n_classes=3,
    ...     criterion=torch.nn.CrossEntropyLoss, iterator_train__sampler=sampler,
    ...     train_split=predefined_split(valid), max_epochs=3, verbose=0,
    ...     callbacks=[ARTCallback(sampler, c=0.5, bf=1)],
    ... ).fit(X[:250], y[:250])
    >>> len(net.history[-1, "p"]), bool(net.history[-1, "art_refresh"])
    (3, True)
    """

    log_keys_ignored = ("class_scores", "p", "art_refresh")

    def __init__(
        self,
        sampler=None,
        *,
        c=0.5,
        bf=1,
        metric="f1",
        smooth=1.0,
        sample_weight=None,
        distributed=False,
    ):
        super().__init__(metric, sample_weight=sample_weight, distributed=distributed)
        self.sampler = sampler
        self.c = c
        self.bf = bf
        self.smooth = smooth

    def initialize(self):
        if not 0.0 <= self.c <= 1.0:
            raise ValueError(f"c must be in [0, 1]; got {self.c!r}.")
        if int(self.bf) != self.bf or self.bf < 1:
            raise ValueError(f"bf must be an integer >= 1; got {self.bf!r}.")
        if not self.smooth >= 0:
            raise ValueError(f"smooth must be >= 0; got {self.smooth!r}.")
        self.n_refreshes_ = 0
        return super().initialize()

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        if self.sampler is not None:
            weights = self.sampler.class_weights  # class counts, or weight totals
            self.prior_ = weights / weights.sum()
            # A fit that continues a history (warm start, partial_fit) keeps
            # the distribution in force; a new one starts from w uniform.
            if not len(net.history):
                self._set_distribution(None)

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        if self.sampler is not None:
            if self.distributed:
                self.sampler.set_epoch(len(net.history) - 1)
            net.history.record("p", self.sampler.p.tolist())

    def on_epoch_end(self, net, **kwargs):
        scored = self._score_epoch(net)
        if scored is None or self.sampler is None:
            return
        scores, support = scored
        history = net.history
        refresh = len(history) % self.bf == 0
        history.record("art_refresh", refresh)
        history.record("event_art", "")
        if refresh:
            p = self._set_distribution(scores, support)
            self.n_refreshes_ += 1
            top = int(np.argmax(p))
            history.record("event_art", f"{top}:{p[top]:.2f}")

    def release_fit_data(self):
        """Drop the references to the fit's sampler and validation weights."""
        super().release_fit_data()
        self.sampler = None

    def _no_validation_consequence(self):
        return ", and the sampling distribution stays as it is"

    def _needs_support(self):
        return self.sampler is not None and bool(self.smooth)

    def _known_n_classes(self):
        return None if self.sampler is None else self.sampler.n_classes

    def _set_distribution(self, scores, support=None):
        p = art_distribution(
            scores, self.prior_, self.c, support=support, smooth=self.smooth
        )
        # A class whose rows all have weight 0 has nothing to draw from.
        p[self.prior_ == 0] = 0.0
        self.sampler.set_distribution(p)
        return self.sampler.p
