"""Shared validation and reduction helpers for the loss-based methods."""

import math
import numbers

import numpy as np
import torch

_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction):
    """Return ``reduction`` if it is one of ``"mean"``, ``"sum"``, ``"none"``."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}.")
    return reduction


def _as_1d_float(values, name):
    # float64 first: validation should not be fooled by float32 rounding.
    try:
        if isinstance(values, torch.Tensor):
            arr = values.detach().cpu().to(torch.float64).numpy()
        else:
            arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers.") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array (one entry per class), "
            f"got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values, got {arr}.")
    return arr


def check_class_counts(class_counts):
    """Validate class counts; return them as a float64 array of shape (K,).

    ``None`` is passed through (the skart estimator fills the counts at fit).
    Counts must be strictly positive: every method here divides by, takes the
    log of, or a negative power of, ``n_k``.
    """
    if class_counts is None:
        return None
    arr = _as_1d_float(class_counts, "class_counts")
    if np.any(arr <= 0):
        raise ValueError(
            "class_counts must be strictly positive (one training-set count per "
            f"class, in class-index order), got {arr}."
        )
    return arr


def as_class_weights(weight, name="weight"):
    """Validate a per-class weight vector; return a float32 (K,) tensor or None."""
    if weight is None:
        return None
    arr = _as_1d_float(weight, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative, got {arr}.")
    return torch.as_tensor(arr, dtype=torch.float32)


def check_inputs(logits, target):
    """Check ``logits`` (N, K) and ``target`` (N,); return target as int64."""
    if logits.ndim != 2:
        raise ValueError(
            f"logits must have shape (n_samples, n_classes), got {tuple(logits.shape)}."
        )
    if target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise ValueError(
            f"target must have shape ({logits.shape[0]},) to match logits, "
            f"got {tuple(target.shape)}."
        )
    if target.is_floating_point() or target.is_complex():
        raise ValueError(
            f"target must hold integer class indices, got dtype {target.dtype}."
        )
    return target.long()


def per_class(values, logits, name, dtype=None):
    """Return ``values`` (K,) on the device of ``logits``, or None.

    The dtype is ``dtype``, by default that of ``logits``. Raises a ValueError
    when the length does not match the number of columns of ``logits``,
    rather than letting torch fail with an opaque message.
    """
    if values is None:
        return None
    n_classes = logits.shape[1]
    if values.shape[0] != n_classes:
        raise ValueError(
            f"{name} has {values.shape[0]} entries but logits have {n_classes} "
            "classes (columns)."
        )
    return values.to(device=logits.device, dtype=dtype or logits.dtype)


def required_class_counts(module, logits):
    """Return ``module.class_counts`` on the device of ``logits``; error if unset.

    The dtype is at least float32 (counts above 65504 overflow float16);
    callers cast the derived (K,) quantity to ``logits.dtype``.
    """
    if module.class_counts is None:
        raise ValueError(
            f"{type(module).__name__} needs class_counts (training-set count per "
            "class). Pass class_counts=..., or give the criterion as a class to a "
            "skart estimator, which then fills criterion__class_counts at fit."
        )
    dtype = torch.promote_types(logits.dtype, torch.float32)
    return per_class(module.class_counts, logits, "class_counts", dtype)


def register_class_counts(module, class_counts):
    """Store validated ``class_counts`` as a float32 buffer (or a None buffer).

    A buffer follows ``module.to(device)``; torch skips None buffers there and
    in ``state_dict``, so an unset count does not break device moves.
    """
    counts = check_class_counts(class_counts)
    if counts is not None:
        counts = torch.as_tensor(counts, dtype=torch.float32)
    module.register_buffer("class_counts", counts)


def register_weight(module, weight, name="weight"):
    """Store a validated per-class weight vector as a (possibly None) buffer."""
    module.register_buffer(name, as_class_weights(weight, name))


def check_non_negative(value, name, strict=False):
    """Return ``value`` as a float if it is a finite real >= 0 (> 0 if strict)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > 0 if strict else value >= 0)
    if not ok:
        bound = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}.")
    return float(value)


_FORWARD_DOC = """{summary}

Parameters
----------
logits : torch.Tensor of shape (N, K)
    Unnormalised class scores of a batch.
target : torch.Tensor of shape (N,)
    Class indices in ``[0, K)``.

Returns
-------
loss : torch.Tensor
    A scalar, or the per-sample losses of shape (N,) with ``reduction="none"``.
"""


def forward_doc(summary):
    """Give a criterion's ``forward`` the shared numpydoc docstring, with its own summary."""

    def decorate(forward):
        forward.__doc__ = _FORWARD_DOC.format(summary=summary)
        return forward

    return decorate
