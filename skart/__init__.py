"""skart: deep-learning methods for class-imbalanced classification, in scikit-learn.

Five methods, each a scikit-learn estimator: ART (:class:`ARTClassifier`,
adaptive resampling by per-class validation scores), EGA
(:class:`EGAClassifier`, synthetic minority points moved by explicit
hypergradients), AutoSMOTE (:class:`AutoSMOTEClassifier` and
:class:`skart.over_sampling.AutoSMOTE`, oversampling decisions learned end to
end), MESA (:class:`skart.ensemble.MESAClassifier`, an ensemble of any
classifier with a learned meta-sampler) and decoupled classifier re-training
(:class:`DecoupledClassifier`: cRT and tau-normalisation).
"""

from ._art._callback import ARTCallback
from ._art._classifier import ARTClassifier
from ._art._update import art_distribution, difficulty_weights
from ._autosmote._classifier import AutoSMOTEClassifier
from ._decoupled import DecoupledClassifier
from ._display import ClassScoresDisplay, LossCurveDisplay, SamplingDistributionDisplay
from ._ega._classifier import EGAClassifier
from ._ega._meta import meta_gradients
from ._nn._checkpoint import Checkpoint
from ._nn._data import ArrayDataset, BatchIterator
from ._nn._network import MLP
from ._nn._persistence import load_fitted
from ._nn._sampler import ClassDistributionSampler
from ._show_versions import show_versions

__version__ = "0.1.0.dev0"

__all__ = [
    "ARTCallback",
    "ARTClassifier",
    "ArrayDataset",
    "AutoSMOTEClassifier",
    "BatchIterator",
    "Checkpoint",
    "ClassDistributionSampler",
    "ClassScoresDisplay",
    "DecoupledClassifier",
    "EGAClassifier",
    "LossCurveDisplay",
    "MLP",
    "SamplingDistributionDisplay",
    "art_distribution",
    "difficulty_weights",
    "load_fitted",
    "meta_gradients",
    "show_versions",
]
