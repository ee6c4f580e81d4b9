"""Balanced softmax cross-entropy (Ren et al., 2020)."""

import torch.nn.functional as F
from torch import nn

from ._utils import (
    check_inputs,
    check_reduction,
    forward_doc,
    register_class_counts,
    required_class_counts,
)


class BalancedSoftmaxLoss(nn.Module):
    r"""Balanced softmax: cross-entropy on logits shifted by the log prior.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,), default=None
        Strictly positive training-set count of each class, in class-index
        order. May be left ``None`` at construction: the skart estimator fills
        ``criterion__class_counts`` at fit. Calling the loss while it is still
        ``None`` raises a ValueError.
    reduction : {"mean", "sum", "none"}, default="mean"
        Reduction over the samples.

    Attributes
    ----------
    class_counts : torch.Tensor of shape (n_classes,) or None
        Float32 buffer holding the counts (moves with ``.to(device)``).

    Notes
    -----
    The loss of sample ``i`` with logits :math:`z_i` is

    .. math::

        \ell_i = -\log \frac{n_{y_i} \exp(z_{i, y_i})}
                            {\sum_k n_k \exp(z_{i, k})}
               = \mathrm{CE}(z_i + \log n, \; y_i),

    i.e. the softmax is trained under the (imbalanced) training label
    distribution, so that the plain logits :math:`z` model the *balanced*
    (uniform-prior) posterior. The shift is applied in training only: the
    skart estimator predicts from the module's raw logits, which is the
    correct de-biased prediction for balanced softmax.

    What is implemented: the Balanced Softmax loss of the paper, i.e. BALMS
    without its meta-sampler. Simplified: the Meta Sampler, which learns the
    sampling distribution of the training batches by meta-learning on a
    balanced validation set, is not implemented. It can be approximated by
    class-balanced sampling, which skart's ``ClassDistributionSampler``
    provides; the paper notes that naively combining balanced softmax with
    class-balanced sampling over-corrects towards the rare classes, which is
    what the meta-sampler fixes, so use that combination with care.

    References
    ----------
    J. Ren, C. Yu, S. Sheng, X. Ma, H. Zhao, S. Yi and H. Li, "Balanced
    Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.

    Examples
    --------
    >>> import torch
    >>> from skart.losses import BalancedSoftmaxLoss
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> target = torch.tensor([0, 1, 1])
    >>> loss = BalancedSoftmaxLoss(class_counts=[90, 10])
    >>> round(loss(logits, target).item(), 4)
    1.5711
    """

    def __init__(self, class_counts=None, reduction="mean"):
        super().__init__()
        self.reduction = check_reduction(reduction)
        register_class_counts(self, class_counts)

    @forward_doc(
        "Balanced softmax loss: cross-entropy on the logits shifted by the log prior."
    )
    def forward(self, logits, target):
        target = check_inputs(logits, target)
        log_prior = required_class_counts(self, logits).log().to(logits.dtype)  # (K,)
        return F.cross_entropy(logits + log_prior, target, reduction=self.reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"
