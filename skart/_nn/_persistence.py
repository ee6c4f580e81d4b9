"""Saving a fitted network estimator to a file that loads without unpickling.

A pickle runs whatever code its author put in it. The files written here hold
only tensors, numbers, strings, lists and dicts, written with ``torch.save``
and read back with ``torch.load(weights_only=True)``, whose unpickler accepts
nothing else: loading a tampered file fails instead of running its code.

The file records every parameter of the estimator, so :func:`load_fitted`
rebuilds it from the file alone. Classes (the module, the criterion, the
optimiser) are recorded by import path and, when loading, resolved only among
skart's own classes, torch's ``torch.nn`` and ``torch.optim`` classes and
those the caller lists in ``trusted`` (skops' rule): a file cannot make the
loader import or build anything else.

Saving is atomic: the file is written beside the target, flushed, synced and
then renamed onto it, so a save that fails part-way leaves the previous file
as it was.
"""

import contextlib
import importlib
import inspect
import json
import numbers
import os
import pickle
import secrets
import warnings

import numpy as np
import torch

FORMAT = "skart-fitted-v3"
# Formats of earlier development versions, refused with a message of their own.
OLD_FORMATS = ("skart-fitted-v1", "skart-fitted-v2")

# Classes whose home module is one of these are resolved without ``trusted``.
TRUSTED_MODULES = ("skart", "torch.nn", "torch.optim")

# Parameters that only training reads. A value of theirs that a file cannot
# hold (callback objects, a RandomState instance, a lambda as metric...) is
# left out of the file, and the loaded estimator has the default.
TRAINING_ONLY = (
    "callbacks",
    "random_state",
    "metric",
    "optimizer",
    "checkpoint",
    "train_transform",
)
TRAINING_ONLY_PREFIXES = (
    "callbacks__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
)

# Where the estimator is rebuilt from: a module or criterion *instance* has
# state that no file without pickle can hold (its constructor's arguments).
BUILDS_THE_NET = ("module", "criterion")

_ZIP_MAGIC = b"PK\x03\x04"


# -- fitted attributes ---------------------------------------------------------


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


# -- parameters ------------------------------------------------------------------


class _NotSaveable(TypeError):
    """A parameter value that a file without pickle cannot hold."""


def _import_path(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def _encode_param(value):
    """A parameter value as plain types: classes and functions by import path."""
    # Classes and plain functions only: a bound method or a partial is an
    # object whose state an import path does not hold.
    if isinstance(value, type) or inspect.isfunction(value):
        return {"import": _import_path(value)}
    if isinstance(value, torch.device):
        return {"device": str(value)}
    if isinstance(value, tuple | list):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [_encode_param(v) for v in value]}
    if isinstance(value, dict):
        return {
            "pairs": [[_encode_param(k), _encode_param(v)] for k, v in value.items()]
        }
    try:
        return _encode(value, "")
    except TypeError:
        raise _NotSaveable(type(value).__name__) from None


def _decode_param(value, resolve):
    if "import" in value:
        return resolve(value["import"])
    if "device" in value:
        return torch.device(value["device"])
    if "tuple" in value:
        return tuple(_decode_param(v, resolve) for v in value["tuple"])
    if "list" in value:
        return [_decode_param(v, resolve) for v in value["list"]]
    if "pairs" in value:
        return {
            _decode_param(k, resolve): _decode_param(v, resolve)
            for k, v in value["pairs"]
        }
    return _decode(value)


def _training_only(name):
    return name in TRAINING_ONLY or name.startswith(TRAINING_ONLY_PREFIXES)


def _encode_params(estimator):
    """Every parameter of ``estimator``, and the names of those left out."""
    params, dropped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        if name in ("callbacks", "train_transform"):
            # User callbacks watch or steer training, augmentation feeds it;
            # predicting needs neither, and they are code, which files never hold.
            if value:
                dropped.append(name)
            continue
        if name in BUILDS_THE_NET and isinstance(value, torch.nn.Module):
            raise TypeError(
                f"{type(estimator).__name__}({name}={type(value).__name__}(...)) "
                f"cannot be saved by save_fitted: a {name} given as an instance "
                "holds constructor arguments that a file without pickle cannot "
                f"record. Give the class and its arguments instead, "
                f"{name}={type(value).__name__}, {name}__<arg>=... (they are "
                "recorded), or save the estimator with pickle, joblib or skops."
            )
        try:
            params[name] = _encode_param(value)
        except _NotSaveable as exc:
            if not _training_only(name):
                raise TypeError(
                    f"The parameter {name}={value!r} of {type(estimator).__name__} "
                    f"({exc}) cannot be saved by save_fitted: a file without "
                    "pickle holds numbers, strings, classes and functions by "
                    "import path, and lists and dicts of them."
                ) from None
            dropped.append(name)
    return params, dropped


def _resolver(trusted):
    """The function that turns a recorded import path into its class."""
    by_path = {}
    for item in trusted or ():
        if isinstance(item, str):
            by_path[item] = None  # imported when a file names it
        elif hasattr(item, "__module__") and hasattr(item, "__qualname__"):
            by_path[_import_path(item)] = item
        else:
            raise TypeError(
                f"trusted lists classes or 'module.qualname' strings, not {item!r}."
            )

    def resolve(path):
        if path in by_path and by_path[path] is not None:
            return by_path[path]
        ours = path.startswith(tuple(m + "." for m in TRUSTED_MODULES))
        if path not in by_path and not ours:
            raise ValueError(
                f"The file names the class {path!r}, which is not one of skart's "
                "or torch's (torch.nn, torch.optim) classes: it is not imported. "
                "If you trust it, pass it in trusted, e.g. "
                f"skart.load_fitted(path, trusted=[{path.rsplit('.', 1)[-1]}]) "
                f"or trusted=[{path!r}]."
            )
        obj = _import(path)
        if path not in by_path:
            # The class must live in skart or torch, not merely be reachable
            # from them (a module of skart imports other modules).
            home = getattr(obj, "__module__", "") or ""
            if not isinstance(obj, type) or not home.startswith(
                tuple(m + "." for m in TRUSTED_MODULES) + TRUSTED_MODULES
            ):
                raise ValueError(
                    f"The file names {path!r}, which is not a class defined in "
                    "skart or torch.nn / torch.optim: it is refused. If you "
                    "trust it, pass it in trusted."
                )
        return obj

    return resolve


def _import(path):
    """The object at ``path``: the longest importable module, then attributes."""
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return obj
    raise ValueError(f"The file names {path!r}, which cannot be imported here.")


# -- saving ----------------------------------------------------------------------


def save_fitted(estimator, path, fitted_attributes):
    """Write the estimator, its network's state and ``fitted_attributes`` to ``path``."""
    net = estimator.net_
    params, dropped = _encode_params(estimator)
    state = {
        "format": FORMAT,
        "estimator": _import_path(type(estimator)),
        "params": params,
        "dropped": dropped,
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
    write_atomically(state, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _Writer:
    """The temporary file as torch writes it, keeping the first write error.

    torch turns an error of ``write`` into a RuntimeError of its own ("unexpected
    pos ..."); the OSError (a full disk, say) is re-raised instead.
    """

    def __init__(self, file):
        self.file = file
        self.error = None

    def write(self, data):
        try:
            return self.file.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def flush(self):
        self.file.flush()


def write_atomically(obj, path):
    """``torch.save(obj)`` to ``path``, atomically when it is a path.

    The data go to a temporary file in the target's directory, which is
    flushed and synced, then renamed onto the target (``os.replace``): the
    target is the previous file or the whole new one, never part of one. On
    any failure the temporary file is removed and the error re-raised. A
    file-like target is written directly (it cannot be replaced atomically).
    """
    if hasattr(path, "write"):
        torch.save(obj, path)
        return
    target = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(target))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        # "x": a new file, created with the usual permissions (the umask's).
        with open(temporary, "xb") as file:
            writer = _Writer(file)
            try:
                torch.save(obj, writer)
            except RuntimeError:
                if writer.error is not None:
                    raise writer.error from None
                raise
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    """Make the rename durable (POSIX; Windows cannot open a directory)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- loading ---------------------------------------------------------------------


def _name(source):
    if hasattr(source, "read"):
        return getattr(source, "name", None) or f"the {type(source).__name__}"
    return os.fspath(source)


def _head(source, start):
    """The size and first bytes of ``source`` (from ``start`` for a file object)."""
    try:
        if hasattr(source, "read"):
            source.seek(start)
            head = source.read(16)
            size = source.seek(0, os.SEEK_END) - start
        else:
            size = os.path.getsize(source)
            with open(source, "rb") as file:
                head = file.read(16)
    except (OSError, ValueError, AttributeError):
        return None, b""
    return size, bytes(head)


def _found(size, head):
    if size is None:
        return "a stream that cannot be read back"
    if size == 0:
        return "an empty file"
    return f"a file of {size} bytes starting with {head!r}"


def _expected():
    return f"Expected a file written by skart's save_fitted (format {FORMAT!r})."


def _what(state):
    if isinstance(state, dict):
        keys = sorted(map(str, state))
        shown = ", ".join(map(repr, keys[:6])) + (", ..." if len(keys) > 6 else "")
        return f"a dict with the keys {shown}"
    return f"a {type(state).__name__}"


def read_state(source, map_location):
    """Read and check a file written by :func:`save_fitted`; refuse anything else."""
    name = _name(source)
    start = 0
    if hasattr(source, "read"):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            start = source.tell()
    try:
        # weights_only=True: an unpickler that builds tensors and plain
        # containers only, and refuses any other global (no code runs).
        state = torch.load(source, map_location=map_location, weights_only=True)
    except (
        pickle.UnpicklingError,
        RuntimeError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        OSError,  # torch's zip reader on a truncated file: EINVAL
    ) as exc:
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
            raise
        size, head = _head(source, start)
        if size and head.startswith(_ZIP_MAGIC):
            if isinstance(exc, pickle.UnpicklingError):
                found = (
                    f"a torch file of {size} bytes holding objects other than "
                    "tensors and plain values, which torch.load(weights_only=True) "
                    "refused to build (nothing in it was run)"
                )
            else:
                found = (
                    f"a zip archive of {size} bytes that torch.load could not "
                    f"read: the file is truncated or damaged ({exc.__class__.__name__})"
                )
            raise ValueError(
                f"{name} is not a skart model file, or is damaged (found: "
                f"{found}). {_expected()}"
            ) from exc
        raise ValueError(
            f"{name} is not a skart model file: torch.load could not read it "
            f"(found: {_found(size, head)}, not a torch zip archive). {_expected()}"
        ) from exc
    tag = state.get("format") if isinstance(state, dict) else None
    if tag in OLD_FORMATS:
        raise ValueError(
            f"{name} was written by an earlier development version of skart "
            f"(format {tag!r}); this version reads {FORMAT!r} only. Fit the "
            "estimator again and save it with this version."
        )
    if tag != FORMAT:
        if isinstance(tag, str) and tag.startswith("skart-fitted-"):
            raise ValueError(
                f"{name} was written in the format {tag!r}, which this version "
                f"of skart does not know (it reads {FORMAT!r}): load it with the "
                "version that wrote it, or a newer one."
            )
        raise ValueError(
            f"{name} is not a skart model file (found: a torch file holding "
            f"{_what(state)}, without skart's format tag). {_expected()}"
        )
    shapes = {
        "estimator": str,
        "params": dict,
        "dropped": list,
        "attributes": dict,
        "net": dict,
        "modules": dict,
        "history": str,
    }
    wrong = [k for k, kind in shapes.items() if not isinstance(state.get(k), kind)]
    if wrong:
        raise ValueError(
            f"{name} is a damaged skart model file: its entries {wrong} are "
            f"missing or of the wrong type. {_expected()}"
        )
    return state


def _device(recorded, device):
    """The device to load on: ``device``, else the recorded one if it is here."""
    if device is not None:
        return device
    where = torch.device(recorded)
    if where.type == "cpu":
        return recorded
    if where.type == "cuda" and torch.cuda.is_available():
        if where.index is None or where.index < torch.cuda.device_count():
            return recorded
    if where.type == "mps" and torch.backends.mps.is_available():
        return recorded
    warnings.warn(
        f"The model was saved with device={str(recorded)!r}, which is not "
        "available here: it is loaded on the CPU (pass device='cpu' to say so, "
        "and silence this warning).",
        UserWarning,
        stacklevel=3,
    )
    return "cpu"


def load_fitted(path, device=None, trusted=None):
    """Load a fitted network estimator saved with ``save_fitted``.

    The estimator is rebuilt from the file alone: its class, every parameter
    it was fitted with, the weights of its network and its fitted
    attributes. The file is read with ``torch.load(weights_only=True)``,
    which builds tensors and plain values only: no code from the file runs.

    Parameters
    ----------
    path : str, path-like or file-like object
        The file (any source of :func:`torch.load`).
    device : str or torch.device, default=None
        Where the network is loaded and predicts; it becomes the estimator's
        ``device`` parameter. A model trained on a GPU loads on a machine
        without one with ``device="cpu"``. None takes the device the file
        records if this machine has it, else the CPU (with a warning).
    trusted : list of classes or str, default=None
        Classes, or their import paths ``"module.qualname"``, that the file
        may name besides skart's own classes and torch's ``torch.nn`` and
        ``torch.optim`` classes: a module, criterion or optimiser class of
        your own, a function given as ``metric``. A file naming any other
        class or function is refused; nothing it names is imported unless it
        is one of these.

    Returns
    -------
    estimator : BaseNetClassifier
        The fitted estimator: it predicts bitwise as the saved one did (on
        the same device). User ``callbacks`` are not saved (they are None),
        nor are other training-only parameters that a file cannot hold (a
        ``RandomState`` instance as ``random_state``, an optimiser that is
        not a class): those have their defaults; the optimiser's state is not
        saved either, so a ``warm_start`` fit after loading starts a new
        optimiser.

    Raises
    ------
    ValueError
        If the file is not a skart model file, is damaged, was written in
        another format version, or names a class that is not trusted.

    Examples
    --------
    >>> import numpy as np, io, skart
    >>> X = np.random.RandomState(0).normal(size=(60, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = skart.ARTClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> buffer = io.BytesIO()
    >>> clf.save_fitted(buffer)
    >>> _ = buffer.seek(0)
    >>> loaded = skart.load_fitted(buffer, device="cpu")
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    from ._estimator import BaseNetClassifier

    resolve = _resolver(trusted)
    # Read on the CPU: the attributes become numpy arrays, and the weights
    # are copied onto the estimator's device when the net is rebuilt.
    state = read_state(path, torch.device("cpu"))
    name = _name(path)
    cls = resolve(state["estimator"])
    if not (isinstance(cls, type) and issubclass(cls, BaseNetClassifier)):
        raise ValueError(
            f"{name} names {state['estimator']!r} as its estimator, which is not "
            "one of skart's network estimators."
        )
    try:
        params = {k: _decode_param(v, resolve) for k, v in state["params"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"{name} is a damaged skart model file: its parameters cannot be "
            f"read ({exc!r}). {_expected()}"
        ) from exc
    params["device"] = _device(params.get("device", "cpu"), device)
    estimator = cls(**params)
    try:
        attributes = {k: _decode(v) for k, v in state["attributes"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"{name} is a damaged skart model file: its fitted attributes "
            f"cannot be read ({exc!r}). {_expected()}"
        ) from exc
    return estimator._restore_fitted(state, attributes, name)
