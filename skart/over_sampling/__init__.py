"""Over-samplers with imbalanced-learn's ``fit_resample`` interface."""

from ._autosmote import AutoSMOTE

__all__ = ["AutoSMOTE"]
