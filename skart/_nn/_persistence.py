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

FORMAT = "skart-fitted-v2"


def _encode(value, name):
    """A fitted attribute as types the weights-only unpickler accepts.

    Arrays of numbers become tensors, arrays of labels and scalars plain
    values with their numpy dtype, and dicts (such as AutoSMOTE's
    ``sampling_strategy_``) lists of encoded key/value pairs.
    """
    if isinstance(value, dict):
        return {
            "dict": [
                [_encode(k, f"a key of {name}"), _encode(v, f"{name}[{k!r}]")]
                for k, v in value.items()
            ]
        }
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":
        # A numpy scalar keeps its type (a class label used as a dict key).
        return {"scalar": value.item(), "dtype": value.dtype.str}
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
    if "dict" in value:
        return {_decode(k): _decode(v) for k, v in value["dict"]}
    if "ndarray" in value:
        return value["ndarray"].numpy()
    if "array" in value:
        return np.asarray(value["array"], dtype=np.dtype(value["dtype"]))
    if "dtype" in value:
        return np.dtype(value["dtype"]).type(value["scalar"])
    return value["scalar"]


def _plain(value):
    """A number or string as a plain Python value (numpy scalars unwrapped)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_simple(value):
    return isinstance(value, bool | numbers.Number | str) or value is None


def _simple_params(estimator):
    """The parameters a file can compare: numbers, strings, classes by name."""
    simple = {}
    for key, value in estimator.get_params(deep=False).items():
        if _is_simple(value):
            simple[key] = _plain(value)
        elif isinstance(value, type):
            simple[key] = f"{value.__module__}.{value.__qualname__}"
        elif isinstance(value, tuple | list) and all(map(_is_simple, value)):
            simple[key] = [_plain(v) for v in value]
        elif isinstance(value, dict) and all(
            map(_is_simple, [*value, *value.values()])
        ):
            # e.g. sampling_strategy={label: n_rows}, as key/value pairs.
            simple[key] = [[_plain(k), _plain(v)] for k, v in value.items()]
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
        # Every module and criterion of the net: a method's second module
        # (AutoSMOTE's decision networks, ``generator_``) included.
        "modules": {
            name: getattr(net, name + "_").state_dict()
            for name in net._modules + net._criteria
            if isinstance(getattr(net, name + "_"), torch.nn.Module)
        },
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
