"""Focal loss (Lin et al., 2017) for multi-class logits."""

import numbers

import torch
import torch.nn.functional as F
from torch import nn

from ._utils import (
    as_class_weights,
    check_inputs,
    check_non_negative,
    check_reduction,
    forward_doc,
    per_class,
    register_weight,
)


class FocalLoss(nn.Module):
    r"""Focal loss: cross-entropy down-weighted on well-classified samples.

    Parameters
    ----------
    gamma : float >= 0, default=2.0
        Focusing parameter. ``gamma=0`` gives exactly the cross-entropy.
    alpha : float, array-like of shape (n_classes,) or None, default=None
        Per-class balancing factor :math:`\alpha_{y_i}` multiplying each
        sample's loss, *without* renormalising the mean (as in the paper).
        A float in [0, 1] is the binary convention of the paper and torchvision:
        ``alpha`` for class 1 and ``1 - alpha`` for class 0 (only valid with
        two classes). Note that the paper's best ``alpha=0.25`` weights the
        rare foreground class *less*: the focal term already does the
        re-balancing.
    weight : array-like of shape (n_classes,) or None, default=None
        Per-class weight with the :class:`torch.nn.CrossEntropyLoss`
        convention: the ``"mean"`` reduction divides by the sum of the weights
        of the targets. Stored as the ``weight`` buffer so that a schedule
        (e.g. :class:`DeferredReweighting`) can replace it during training.
    reduction : {"mean", "sum", "none"}, default="mean"
        Reduction over the samples.

    Notes
    -----
    With :math:`p_t = \mathrm{softmax}(z_i)_{y_i}` the probability of the true
    class, the loss of sample ``i`` is

    .. math::

        \ell_i = -\,w_{y_i}\,\alpha_{y_i}\,(1 - p_t)^\gamma \log p_t .

    :math:`\log p_t` comes from ``log_softmax`` and :math:`1 - p_t` from
    ``-expm1(log p_t)``, which stays accurate (and the gradient finite) for
    confident predictions. The last step is ``F.nll_loss``, so with
    ``gamma=0`` and no ``alpha`` the result is bit-for-bit
    ``F.cross_entropy(logits, target, weight)``.

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss for
    Dense Object Detection", ICCV 2017.

    Examples
    --------
    >>> import torch
    >>> from skart.losses import FocalLoss
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> target = torch.tensor([0, 1, 1])
    >>> round(FocalLoss(gamma=2.0)(logits, target).item(), 4)
    0.2421
    >>> round(FocalLoss(gamma=0.0)(logits, target).item(), 4)  # cross-entropy
    0.5845
    """

    def __init__(self, gamma=2.0, alpha=None, weight=None, reduction="mean"):
        super().__init__()
        self.gamma = check_non_negative(gamma, "gamma")
        self.reduction = check_reduction(reduction)
        if isinstance(alpha, numbers.Real) and not isinstance(alpha, bool):
            if not 0.0 <= alpha <= 1.0:
                raise ValueError(f"A float alpha must be in [0, 1], got {alpha!r}.")
            alpha = [1.0 - alpha, alpha]  # (class 0, class 1)
        self.register_buffer("alpha", as_class_weights(alpha, "alpha"))
        register_weight(self, weight)

    @forward_doc("Focal loss of the batch.")
    def forward(self, logits, target):
        target = check_inputs(logits, target)
        log_p = F.log_softmax(logits, dim=1)  # (N, K)
        # (1 - p)^gamma for every class; nll_loss below keeps the true class.
        # The clamp keeps the gradient finite for gamma < 1 when p == 1.
        one_minus_p = (-torch.expm1(log_p)).clamp_min(torch.finfo(log_p.dtype).tiny)
        scaled = one_minus_p.pow(self.gamma) * log_p  # (N, K)
        alpha = per_class(self.alpha, logits, "alpha")
        if alpha is not None:
            scaled = scaled * alpha  # (N, K) * (K,): alpha_{y_i} once picked
        weight = per_class(self.weight, logits, "weight")
        return F.nll_loss(scaled, target, weight=weight, reduction=self.reduction)

    def extra_repr(self):
        return f"gamma={self.gamma}, reduction={self.reduction!r}"
