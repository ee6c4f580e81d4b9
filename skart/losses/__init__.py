"""Loss-based methods for class-imbalanced classification.

PyTorch criteria usable as a skorch ``criterion`` (``forward(logits, target)``
with logits of shape (N, K) and integer targets of shape (N,)), plus the
deferred re-weighting (DRW) schedule as a skorch callback. These are the
loss-based baselines the ART paper compares against.

Criteria that need the class distribution take ``class_counts``; the skart
estimator fills ``criterion__class_counts`` at fit when it is left unset.
"""

from ._balanced_softmax import BalancedSoftmaxLoss
from ._cost_sensitive import CostSensitiveCrossEntropy
from ._drw import DeferredReweighting
from ._focal import FocalLoss
from ._ldam import LDAMLoss
from ._ohem import OHEMCrossEntropy
from ._weights import class_balanced_weights

__all__ = [
    "BalancedSoftmaxLoss",
    "CostSensitiveCrossEntropy",
    "DeferredReweighting",
    "FocalLoss",
    "LDAMLoss",
    "OHEMCrossEntropy",
    "class_balanced_weights",
]
