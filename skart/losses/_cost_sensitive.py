"""Cost-sensitive (class-weighted) cross-entropy."""

import torch.nn.functional as F
from torch import nn

from ._utils import (
    check_inputs,
    check_reduction,
    forward_doc,
    register_class_counts,
    required_class_counts,
)
from ._weights import balanced_weights, check_beta


class CostSensitiveCrossEntropy(nn.Module):
    r"""Cross-entropy weighted by inverse class frequency.

    Each sample's cross-entropy is multiplied by the weight of its true class,
    so errors on rare classes cost more. The weights are derived from the
    training-set class counts at every call, which keeps them consistent with
    the ``class_counts`` buffer.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,), default=None
        Strictly positive training-set count of each class, in class-index
        order. May be left ``None`` at construction: the skart estimator fills
        ``criterion__class_counts`` at fit. Calling the loss while it is still
        ``None`` raises a ValueError.
    beta : float in [0, 1) or None, default=None
        ``None`` uses plain inverse frequency. A float uses the "effective
        number" of samples of Cui et al. (2019) instead (see Notes).
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`: ``"mean"`` is the weighted
        mean ``sum_i w_{y_i} l_i / sum_i w_{y_i}``.

    Attributes
    ----------
    class_counts : torch.Tensor of shape (n_classes,) or None
        Float32 buffer holding the counts (moves with ``.to(device)``).

    Notes
    -----
    With ``n_k`` the count of class ``k`` and ``K`` the number of classes, the
    class weights are

    .. math::

        w_k = K \frac{r_k}{\sum_j r_j}, \qquad
        r_k = \frac{1}{n_k} \ \text{(beta=None)} \quad\text{or}\quad
        r_k = \frac{1 - \beta}{1 - \beta^{n_k}},

    so that they sum to ``K`` (mean weight 1), and the loss of sample ``i`` is
    ``w_{y_i} * CE(z_i, y_i)``. See :func:`class_balanced_weights`.

    References
    ----------
    C. Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.

    Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced Loss
    Based on Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> import torch
    >>> from skart.losses import CostSensitiveCrossEntropy
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> target = torch.tensor([0, 1, 1])
    >>> loss = CostSensitiveCrossEntropy(class_counts=[90, 10])
    >>> round(loss(logits, target).item(), 4)
    0.7771
    """

    def __init__(self, class_counts=None, beta=None, reduction="mean"):
        super().__init__()
        self.beta = check_beta(beta)
        self.reduction = check_reduction(reduction)
        register_class_counts(self, class_counts)

    def class_weights(self):
        """Per-class weights ``w_k`` of the loss.

        Returns
        -------
        weights : torch.Tensor of shape (n_classes,)
            Inverse-frequency weights, summing to ``n_classes``.
        """
        if self.class_counts is None:
            raise ValueError(
                "CostSensitiveCrossEntropy needs class_counts to compute weights."
            )
        return balanced_weights(self.class_counts, self.beta)

    @forward_doc("Cross-entropy weighted by inverse class frequency.")
    def forward(self, logits, target):
        target = check_inputs(logits, target)
        counts = required_class_counts(self, logits)  # (K,)
        weight = balanced_weights(counts, self.beta).to(logits.dtype)  # (K,)
        return F.cross_entropy(logits, target, weight=weight, reduction=self.reduction)

    def extra_repr(self):
        return f"beta={self.beta}, reduction={self.reduction!r}"
