"""Label-distribution-aware margin (LDAM) loss (Cao et al., 2019)."""

import torch.nn.functional as F
from torch import nn

from ._utils import (
    check_inputs,
    check_non_negative,
    check_reduction,
    forward_doc,
    per_class,
    register_class_counts,
    register_weight,
    required_class_counts,
)


class LDAMLoss(nn.Module):
    r"""Label-distribution-aware margin loss.

    Enforces a larger margin for rarer classes by subtracting a class-dependent
    margin from the true-class logit before a (scaled) cross-entropy.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,), default=None
        Strictly positive training-set count of each class, in class-index
        order. May be left ``None`` at construction: the skart estimator fills
        ``criterion__class_counts`` at fit. Calling the loss while it is still
        ``None`` raises a ValueError.
    max_margin : float >= 0, default=0.5
        Margin of the rarest class (``C`` is chosen so that the largest margin
        equals it). ``0`` gives a scaled cross-entropy.
    scale : float > 0, default=30.0
        Multiplier :math:`s` applied to the margin-adjusted logits. The paper
        (and its reference code) uses normalised (cosine) logits in
        :math:`[-1, 1]`, for which ``s=30`` is appropriate; with an ordinary
        unnormalised linear output layer a much smaller scale (e.g. 1) is
        usually better, with ``max_margin`` on the same scale as the logits.
    weight : array-like of shape (n_classes,) or None, default=None
        Per-class weight with the :class:`torch.nn.CrossEntropyLoss`
        convention. Stored as the ``weight`` buffer; :class:`DeferredReweighting`
        sets it during training to obtain LDAM-DRW.
    reduction : {"mean", "sum", "none"}, default="mean"
        Reduction over the samples.

    Attributes
    ----------
    class_counts : torch.Tensor of shape (n_classes,) or None
        Float32 buffer holding the counts (moves with ``.to(device)``).

    Notes
    -----
    With :math:`n_k` the count of class :math:`k`, the margins are

    .. math::

        m_k = \frac{C}{n_k^{1/4}}, \qquad
        C = \text{max\_margin} \cdot \min_j n_j^{1/4},

    and the loss of sample ``i`` with logits :math:`z_i` is the cross-entropy
    of :math:`s\,(z_i - m_{y_i} e_{y_i})` (only the true-class logit is
    reduced), weighted by ``weight``. Margins are used in training only:
    prediction uses the raw logits.

    References
    ----------
    K. Cao, C. Wei, A. Gaidon, N. Arechiga and T. Ma, "Learning Imbalanced
    Datasets with Label-Distribution-Aware Margin Loss", NeurIPS 2019.

    Examples
    --------
    >>> import torch
    >>> from skart.losses import LDAMLoss
    >>> logits = torch.tensor([[0.5, -0.5], [-0.2, 0.3], [0.1, 0.0]])
    >>> target = torch.tensor([0, 1, 1])
    >>> loss = LDAMLoss(class_counts=[81, 1], max_margin=0.5, scale=2.0)
    >>> loss.margins().tolist()
    [0.1666666716337204, 0.5]
    >>> round(loss(logits, target).item(), 4)
    0.7765
    """

    def __init__(
        self,
        class_counts=None,
        max_margin=0.5,
        scale=30.0,
        weight=None,
        reduction="mean",
    ):
        super().__init__()
        self.max_margin = check_non_negative(max_margin, "max_margin")
        self.scale = check_non_negative(scale, "scale", strict=True)
        self.reduction = check_reduction(reduction)
        register_class_counts(self, class_counts)
        register_weight(self, weight)

    def margins(self):
        """Per-class margins ``m_k`` of the loss.

        Returns
        -------
        margins : torch.Tensor of shape (n_classes,)
            Margins proportional to ``n_k ** (-1/4)``, the largest equal to
            ``max_margin``.
        """
        if self.class_counts is None:
            raise ValueError("LDAMLoss needs class_counts to compute margins.")
        return self._margins(self.class_counts)

    def _margins(self, counts):
        inv_quarter = counts.pow(-0.25)  # (K,), largest for the rarest class
        return inv_quarter * (self.max_margin / inv_quarter.max())

    @forward_doc(
        "LDAM loss: cross-entropy after subtracting the class margin from the true logit."
    )
    def forward(self, logits, target):
        target = check_inputs(logits, target)
        counts = required_class_counts(self, logits)  # (K,)
        margins = self._margins(counts).to(logits.dtype)  # (K,)
        # One-hot keeps m_{y_i} on the true-class column only: (N, K).
        shifted = logits - F.one_hot(target, logits.shape[1]) * margins
        weight = per_class(self.weight, logits, "weight")
        return F.cross_entropy(
            self.scale * shifted, target, weight=weight, reduction=self.reduction
        )

    def extra_repr(self):
        return (
            f"max_margin={self.max_margin}, scale={self.scale}, "
            f"reduction={self.reduction!r}"
        )
