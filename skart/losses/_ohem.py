"""Online hard example mining (OHEM) on top of cross-entropy."""

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from ._utils import (
    check_inputs,
    check_reduction,
    forward_doc,
    per_class,
    register_weight,
)


class OHEMCrossEntropy(nn.Module):
    r"""Cross-entropy averaged over the hardest samples of each batch only.

    Parameters
    ----------
    keep_ratio : float in (0, 1], default=0.7
        Fraction of the batch kept: the ``k = ceil(keep_ratio * N)`` samples
        with the highest loss. ``keep_ratio=1`` is plain cross-entropy.
    min_kept : int >= 1, default=1
        Lower bound on ``k`` (useful for small last batches). ``k`` never
        exceeds the batch size.
    weight : array-like of shape (n_classes,) or None, default=None
        Per-class weight with the :class:`torch.nn.CrossEntropyLoss`
        convention. Samples are ranked by their *weighted* loss, and the
        ``"mean"`` reduction divides by the sum of the kept samples' weights.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` / ``"sum"`` over the kept samples; ``"none"`` returns the
        (N,) per-sample losses with the dropped samples set to zero.

    Notes
    -----
    With :math:`\ell_i` the (weighted) cross-entropy of sample ``i`` and
    :math:`H` the indices of the ``k`` largest :math:`\ell_i` in the batch,

    .. math::

        L = \frac{1}{|H|} \sum_{i \in H} \ell_i .

    The selection itself is not differentiated: only the kept samples receive
    gradient, as in Shrivastava et al. (who select RoIs by their loss under
    the current network and back-propagate only through those).

    References
    ----------
    A. Shrivastava, A. Gupta and R. Girshick, "Training Region-based Object
    Detectors with Online Hard Example Mining", CVPR 2016.

    Examples
    --------
    >>> import torch
    >>> from skart.losses import OHEMCrossEntropy
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> target = torch.tensor([0, 1, 1])
    >>> loss = OHEMCrossEntropy(keep_ratio=0.5)  # keeps the 2 hardest of 3
    >>> round(loss(logits, target).item(), 4)
    0.8133
    """

    def __init__(self, keep_ratio=0.7, min_kept=1, weight=None, reduction="mean"):
        super().__init__()
        if (
            isinstance(keep_ratio, bool)
            or not isinstance(keep_ratio, numbers.Real)
            or not 0.0 < keep_ratio <= 1.0
        ):
            raise ValueError(f"keep_ratio must be in (0, 1], got {keep_ratio!r}.")
        if (
            isinstance(min_kept, bool)
            or not isinstance(min_kept, numbers.Integral)
            or min_kept < 1
        ):
            raise ValueError(f"min_kept must be an integer >= 1, got {min_kept!r}.")
        self.keep_ratio = float(keep_ratio)
        self.min_kept = int(min_kept)
        self.reduction = check_reduction(reduction)
        register_weight(self, weight)

    def n_kept(self, n_samples):
        """Number of samples kept from a batch.

        Parameters
        ----------
        n_samples : int
            Size of the batch.

        Returns
        -------
        n_kept : int
            ``ceil(keep_ratio * n_samples)``, at least ``min_kept`` and at most
            ``n_samples``.
        """
        # Round before ceil so that e.g. 0.7 * 10 = 7.000000000000001 gives 7.
        k = math.ceil(round(self.keep_ratio * n_samples, 9))
        return min(n_samples, max(self.min_kept, k))

    @forward_doc("Cross-entropy of the hardest samples of the batch.")
    def forward(self, logits, target):
        target = check_inputs(logits, target)
        weight = per_class(self.weight, logits, "weight")
        # (N,) per-sample losses, already multiplied by w_{y_i}
        losses = F.cross_entropy(logits, target, weight=weight, reduction="none")
        kept = torch.topk(losses, self.n_kept(losses.shape[0]), sorted=False).indices
        if self.reduction == "none":
            mask = torch.zeros_like(losses, dtype=torch.bool).index_fill(0, kept, True)
            return losses * mask  # (N,), zero for the easy samples
        total = losses[kept].sum()
        if self.reduction == "sum":
            return total
        if weight is None:
            return total / kept.numel()
        return total / weight[target[kept]].sum()

    def extra_repr(self):
        return (
            f"keep_ratio={self.keep_ratio}, min_kept={self.min_kept}, "
            f"reduction={self.reduction!r}"
        )
