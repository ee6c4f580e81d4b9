"""Saving a fitted network estimator to a file that loads without unpickling.

A pickle runs whatever code its author put in it. The files written here hold
only tensors, numbers, strings, lists and dicts, written with ``torch.save``
and read back with ``torch.load(weights_only=True)``, whose unpickler accepts
nothing else: loading a tampered file fails instead of running its code.
The estimator's parameters are not in the file; the user re-creates the
estimator with the same parameters (the file records the simple ones and
refuses to load into an estimator whose parameters differ).
"""

import json
import numbers

import numpy as np
import torch

FORMAT = "skart-fitted-v1"


def _encode(value, name):
    """A fitted attribute as types the weights-only unpickler accepts."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return {"ndarray": torch.from_numpy(np.ascontiguousarray(value))}
        if value.dtype.kind in "OU" and all(
            isinstance(v, str | numbers.Number) for v in value.flat
        ):
            return {
                "array": [
                    v.item() if hasattr(v, "item") else v for v in value.tolist()
                ],
                "dtype": value.dtype.str,
            }
    elif isinstance(value, bool | numbers.Number | str) or value is None:
        return {"scalar": value.item() if hasattr(value, "item") else value}
    raise TypeError(
        f"The fitted attribute {name} ({type(value).__name__}) cannot be saved "
        "without pickle."
    )


def _decode(value):
    if "ndarray" in value:
        return value["ndarray"].numpy()
    if "array" in value:
        return np.asarray(value["array"], dtype=np.dtype(value["dtype"]))
    return value["scalar"]


def _simple_params(estimator):
    """The parameters a file can compare: numbers, strings, classes by name."""
    simple = {}
    for key, value in estimator.get_params(deep=False).items():
        if isinstance(value, bool | numbers.Number | str) or value is None:
            simple[key] = value
        elif isinstance(value, type):
            simple[key] = f"{value.__module__}.{value.__qualname__}"
        elif isinstance(value, tuple | list) and all(
            isinstance(v, bool | numbers.Number | str) for v in value
        ):
            simple[key] = list(value)
    return simple


def save_fitted(estimator, path, fitted_attributes):
    """Write the network's state and ``fitted_attributes`` to ``path``."""
    net = estimator.net_
    state = {
        "format": FORMAT,
        "estimator": type(estimator).__name__,
        "params": _simple_params(estimator),
        "attributes": {
            name: _encode(getattr(estimator, name), name)
            for name in fitted_attributes
            if hasattr(estimator, name)
        },
        # The sizes the module was built with (filled in from the data at fit).
        "net": {
            key: getattr(net, key)
            for key in ("module__n_features", "module__n_classes")
            if hasattr(net, key)
        },
        "module": net.module_.state_dict(),
        "criterion": (
            net.criterion_.state_dict()
            if isinstance(net.criterion_, torch.nn.Module)
            else {}
        ),
        # JSON, because a history holds whatever callbacks recorded.
        "history": json.dumps(net.history.to_list(), default=_json_default),
    }
    torch.save(state, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def load_state(estimator, path, map_location):
    """Read a file written by :func:`save_fitted`, checked against ``estimator``."""
    # weights_only=True: an unpickler that builds tensors and plain
    # containers only, and refuses any other global (no code runs).
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(
            f"{path} is not a file written by save_fitted (format {FORMAT!r})."
        )
    name = type(estimator).__name__
    if state["estimator"] != name:
        raise ValueError(
            f"{path} holds a fitted {state['estimator']}, not a {name}: load it "
            f"into {state['estimator']}(...) with the parameters it was fitted with."
        )
    ours = _simple_params(estimator)
    differ = {
        key: (value, ours.get(key))
        for key, value in state["params"].items()
        if ours.get(key) != value
    }
    if differ:
        detail = ", ".join(f"{k}={v!r} (here {o!r})" for k, (v, o) in differ.items())
        raise ValueError(
            f"{path} was fitted with other parameters: {detail}. Re-create the "
            "estimator with the parameters it was fitted with."
        )
    attributes = {k: _decode(v) for k, v in state["attributes"].items()}
    return state, attributes
