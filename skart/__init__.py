"""skart: Adaptive Resampling-based Training for class-imbalanced classification.

ART (arXiv:2509.00955) trains a neural network while watching it: every few
epochs it scores each class on a validation fold and draws the next epochs'
minibatches by class, favouring the classes the model finds hard.
"""

from ._autosmote import AutoSMOTEClassifier
from ._callback import ARTCallback
from ._classifier import ARTClassifier
from ._data import ArrayDataset, BatchIterator
from ._display import ClassScoresDisplay, LossCurveDisplay, SamplingDistributionDisplay
from ._ega import EGAClassifier, meta_gradients
from ._network import MLP
from ._sampler import ClassDistributionSampler
from ._update import art_distribution, difficulty_weights

__version__ = "0.1.0.dev0"

__all__ = [
    "ARTCallback",
    "ARTClassifier",
    "ArrayDataset",
    "AutoSMOTEClassifier",
    "BatchIterator",
    "ClassDistributionSampler",
    "ClassScoresDisplay",
    "EGAClassifier",
    "LossCurveDisplay",
    "MLP",
    "SamplingDistributionDisplay",
    "art_distribution",
    "difficulty_weights",
    "meta_gradients",
]
