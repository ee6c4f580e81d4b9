"""Deferred re-weighting (DRW) schedule as a skorch callback."""

import numbers

import torch
from skorch.callbacks import Callback

from ._utils import check_class_counts
from ._weights import balanced_weights, check_beta


class DeferredReweighting(Callback):
    r"""Deferred re-weighting: switch class-balanced weights on late in training.

    Before epoch ``start_epoch`` the criterion's ``weight`` is ``None``
    (plain, unweighted training, which learns good features); from then on it
    is set to the class-balanced "effective number" weights, which re-balance
    the decision boundary. Combined with :class:`LDAMLoss` this is LDAM-DRW;
    any criterion with a ``weight`` attribute works (e.g.
    :class:`FocalLoss`, :class:`OHEMCrossEntropy` or
    :class:`torch.nn.CrossEntropyLoss`).

    Parameters
    ----------
    start_epoch : int >= 0 or None, default=None
        Number of initial epochs trained without weights, i.e. the 0-based
        index of the first re-weighted epoch: the weights are active on
        skorch epochs (1-based, as in ``net.history``) ``start_epoch + 1``
        onwards. ``None`` means ``int(0.8 * net.max_epochs)``, which
        reproduces the paper's schedule (re-weighting from epoch 160 of 200).
        The count runs over ``net.history``, so it continues across
        ``partial_fit`` / warm-start calls.
    beta : float in [0, 1), default=0.9999
        Hyper-parameter of the effective number of samples (see Notes).
    class_counts : array-like of shape (n_classes,) or None, default=None
        Training-set class counts. ``None`` reads the ``class_counts`` buffer
        of ``net.criterion_`` (filled by the skart estimator for criteria
        such as :class:`LDAMLoss`).

    Attributes
    ----------
    start_epoch_ : int
        The resolved ``start_epoch`` of the current training run.
    weight_ : torch.Tensor of shape (n_classes,)
        The weights used once active, on the criterion's device.

    Notes
    -----
    With :math:`n_k` the count of class :math:`k` and :math:`K` classes,

    .. math::

        w_k = K \frac{r_k}{\sum_j r_j}, \qquad
        r_k = \frac{1 - \beta}{1 - \beta^{n_k}},

    (weights sum to :math:`K`). At the beginning of each epoch the callback
    assigns ``net.criterion_.weight`` and records whether the weights are
    active in the history column ``"drw_active"``.

    References
    ----------
    K. Cao, C. Wei, A. Gaidon, N. Arechiga and T. Ma, "Learning Imbalanced
    Datasets with Label-Distribution-Aware Margin Loss", NeurIPS 2019.

    Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced Loss
    Based on Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetClassifier
    >>> from skart.losses import DeferredReweighting, LDAMLoss
    >>> X = np.random.RandomState(0).randn(40, 3).astype(np.float32)
    >>> y = np.r_[np.zeros(36), np.ones(4)].astype(np.int64)
    >>> net = NeuralNetClassifier(
    ...     torch.nn.Linear(3, 2), criterion=LDAMLoss,
    ...     criterion__class_counts=[36, 4], criterion__scale=1.0,
    ...     callbacks=[DeferredReweighting(start_epoch=3)],
    ...     max_epochs=5, train_split=None, verbose=0,
    ... ).fit(X, y)
    >>> net.history[:, "drw_active"]
    [False, False, False, True, True]
    >>> net.criterion_.weight.numpy().round(3)
    array([0.2, 1.8], dtype=float32)
    """

    def __init__(self, start_epoch=None, beta=0.9999, class_counts=None):
        self.start_epoch = start_epoch
        self.beta = beta
        self.class_counts = class_counts

    def initialize(self):
        # Validate here (not in __init__) to follow the skorch/sklearn
        # convention that __init__ only stores parameters.
        if self.start_epoch is not None and (
            isinstance(self.start_epoch, bool)
            or not isinstance(self.start_epoch, numbers.Integral)
            or self.start_epoch < 0
        ):
            raise ValueError(
                "start_epoch must be an integer >= 0 or None, "
                f"got {self.start_epoch!r}."
            )
        check_beta(self.beta, allow_none=False)
        check_class_counts(self.class_counts)
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        criterion = net.criterion_
        if not hasattr(criterion, "weight"):
            raise ValueError(
                f"DeferredReweighting needs a criterion with a `weight` attribute; "
                f"{type(criterion).__name__} has none."
            )
        counts = getattr(criterion, "class_counts", None)
        if self.class_counts is not None:
            device = counts.device if isinstance(counts, torch.Tensor) else net.device
            counts = torch.as_tensor(
                check_class_counts(self.class_counts),
                dtype=torch.float32,
                device=device,
            )
        if not isinstance(counts, torch.Tensor):
            raise ValueError(
                "DeferredReweighting needs class counts: pass class_counts=... or "
                "use a criterion whose class_counts buffer is set."
            )
        if self.start_epoch is None:
            self.start_epoch_ = int(0.8 * net.max_epochs)
        else:
            self.start_epoch_ = self.start_epoch
        # On the criterion's device (its counts buffer, or the net's device).
        self.weight_ = balanced_weights(counts, float(self.beta))

    def on_epoch_begin(self, net, **kwargs):
        # The net's own on_epoch_begin already appended this epoch's row, so
        # len(history) is the current 1-based epoch number.
        active = len(net.history) > self.start_epoch_
        net.criterion_.weight = self.weight_ if active else None
        net.history.record("drw_active", active)
