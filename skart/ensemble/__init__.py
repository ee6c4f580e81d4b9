"""Ensembles for imbalanced data that take any scikit-learn classifier as member.

:class:`MESAClassifier` (MESA, Liu et al., NeurIPS 2020) grows a cascade whose
members are trained on subsets chosen by a meta-sampler, :class:`MetaSampler`.
"""

from ._mesa import MESAClassifier
from ._meta_sampler import MetaSampler

__all__ = ["MESAClassifier", "MetaSampler"]
