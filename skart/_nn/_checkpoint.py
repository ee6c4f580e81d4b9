"""Resuming a fit after a crash: ``checkpoint=DIR`` on every network estimator.

At the end of every epoch (and of every training stage) the whole training
state is written atomically to ``DIR/checkpoint.pt``
(:func:`~skart._nn._persistence.write_atomically`): the weights of every module
and criterion, the optimisers, every callback's counters (early stopping's
misses and best weights, the learning-rate schedule), the class sampler's
distribution and random state, the training iterator's shuffling state,
torch's random state, the method's own state (the core's
``_checkpoint_state`` hook) and the history. The file holds tensors and plain
containers only and is read with ``torch.load(weights_only=True)``.

A fit given the same directory, data and parameters resumes from the last
complete epoch: the stages before the saved one are skipped, the saved stage
restarts where it stopped, with every random stream where it was, so the
fitted model is bitwise the one an uninterrupted fit gives.

A *stage* is one call of the net's ``partial_fit`` (skorch's ``fit`` calls it
once): EGA's two phases and cRT's second stage are stages of their own.
"""

import contextlib
import hashlib
import json
import os
import re
import types

import numpy as np
import scipy.sparse as sp
import torch
from skorch.callbacks import Callback, LRScheduler

from ._persistence import _json_default, write_atomically
from ._torch_datasets import fingerprint as dataset_fingerprint
from ._torch_datasets import is_dataset

FORMAT = "skart-checkpoint-v1"
FILE = "checkpoint.pt"

# Parameters that may differ between the interrupted fit and its resumption:
# they do not change what is trained.
FREE_PARAMETERS = ("checkpoint", "callbacks", "verbose")


class Checkpoint:
    """Where a fit checkpoints itself, and whether the files outlive it.

    Give it as ``checkpoint=`` to any network estimator. A plain path,
    ``checkpoint="DIR"``, is ``Checkpoint("DIR")``.

    Parameters
    ----------
    dirname : str or path-like
        The directory; created when missing. One fit at a time may use it.
    keep : bool, default=False
        Keep the checkpoint after a successful fit. By default it is removed
        (and the directory too when the fit created it): a fit that ends
        needs no resuming, and the next ``fit`` with the same directory (a
        cross-validation fold, other data) starts afresh. The directory goes
        too when nothing else is left in it. With ``keep=True``
        the next ``fit`` on the same data and parameters loads the finished
        state instead of training, and one on other data is refused. An
        interrupted (Ctrl-C) or failed fit always keeps its checkpoint.

    Examples
    --------
    >>> from skart import ARTClassifier, Checkpoint
    >>> clf = ARTClassifier(checkpoint=Checkpoint("run1", keep=True))
    >>> clf.checkpoint
    Checkpoint('run1', keep=True)
    """

    def __init__(self, dirname, *, keep=False):
        self.dirname = dirname
        self.keep = keep

    def __repr__(self):
        keep = ", keep=True" if self.keep else ""
        return f"Checkpoint({os.fspath(self.dirname)!r}{keep})"

    def __eq__(self, other):
        return (
            isinstance(other, Checkpoint)
            and os.fspath(self.dirname) == os.fspath(other.dirname)
            and self.keep == other.keep
        )

    def __hash__(self):
        return hash((os.fspath(self.dirname), self.keep))


# -- plain values ---------------------------------------------------------------


class _NotPlain(Exception):
    pass


def _plain(value):
    """``value`` as tensors and plain containers, or raise :class:`_NotPlain`."""
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, np.generic):
            return value.item()
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict) and all(isinstance(k, str | int) for k in value):
        return type(value)((k, _plain(v)) for k, v in value.items())
    raise _NotPlain


def random_state_state(rng):
    """A numpy ``RandomState``'s state as tensors and numbers."""
    name, keys, pos, has_gauss, gauss = rng.get_state()
    return {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "gauss": float(gauss),
    }


def set_random_state(rng, state):
    """Put back a state from :func:`random_state_state`."""
    rng.set_state(
        (
            state["name"],
            state["keys"].numpy().astype(np.uint32),
            state["pos"],
            state["has_gauss"],
            state["gauss"],
        )
    )


# -- what must agree ------------------------------------------------------------


def _digest(*arrays):
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        if is_dataset(a):  # not read whole: its type and length (y is hashed)
            h.update(dataset_fingerprint(a).encode())
            continue
        if sp.issparse(a):
            a = a.tocsr()
            h.update(repr(a.shape).encode())
            for part in (a.data, a.indices, a.indptr):
                h.update(np.ascontiguousarray(part).tobytes())
            continue
        a = np.ascontiguousarray(np.asarray(a))
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(a.tobytes() if a.dtype != object else repr(a.tolist()).encode())
    return h.hexdigest()


def data_fingerprint(estimator, X, y_enc, sample_weight, X_val, y_val):
    """Shapes, classes and a hash of the data (like DDP's rank check)."""
    return {
        "shape": [len(X)] if is_dataset(X) else list(X.shape),
        "classes": repr(estimator.classes_.tolist()),
        "X": _digest(X),
        "y": _digest(np.asarray(y_enc, dtype=np.int64)),
        "sample_weight": _digest(sample_weight),
        "validation": _digest(X_val, y_val),
    }


def _canonical(value):
    if isinstance(value, type | types.FunctionType | types.BuiltinFunctionType):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, np.random.RandomState):
        return "RandomState"  # its state is restored from the checkpoint
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def parameter_fingerprint(estimator):
    """The parameters that must agree, as strings."""
    return {
        k: _canonical(v)
        for k, v in sorted(estimator.get_params(deep=False).items())
        if k not in FREE_PARAMETERS
    }


# -- the fit's checkpoint ---------------------------------------------------------


class FitCheckpoint:
    """One fit's checkpoint: reads it when the fit starts, writes it each epoch.

    The core opens it (:func:`open_checkpoint`) before the split, puts it on
    the net (``net.resume``) and adds its :class:`CheckpointCallback` last.
    """

    def __init__(self, estimator, dirname, keep, fingerprint, params):
        self.estimator = estimator
        self.dirname = os.fspath(dirname)
        self.keep = keep
        self.path = os.path.join(self.dirname, FILE)
        self.fingerprint = fingerprint
        self.params = params
        self.saved = None  # the state read at the start, until restored
        self.rng_start = None
        self.fit_state = None  # the core's FitState, for the method's hook
        self.iterator = None  # this stage's training iterator
        self.stage = -1  # index of the stage running (partial_fit calls)
        self.stage_epochs = 0  # epochs of it that ended
        self.pending_iterator = None

    # -- reading ----------------------------------------------------------

    def read(self):
        if not os.path.exists(self.path):
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file
            raise ValueError(
                f"checkpoint={self.dirname!r} holds {FILE}, which is not a "
                f"readable skart checkpoint ({type(exc).__name__}). Remove it, "
                "or give another directory."
            ) from exc
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(
                f"{self.path} is not a skart checkpoint of format {FORMAT!r}. "
                "Remove it, or give another directory."
            )
        name = type(self.estimator).__name__
        if state["estimator"] != name:
            raise ValueError(
                f"checkpoint={self.dirname!r} was written by a "
                f"{state['estimator']} fit, not a {name} one: give another "
                "directory, or remove it to start afresh."
            )
        if state["data"] != self.fingerprint:
            differ = [
                k
                for k in self.fingerprint
                if state["data"].get(k) != self.fingerprint[k]
            ]
            raise ValueError(
                f"checkpoint={self.dirname!r} was written by a fit on other data "
                f"(they differ in: {', '.join(differ)}); a fit resumes only on "
                "the same X, y, sample_weight and validation set. Give another "
                "directory, or remove it to start afresh."
            )
        if state["params"] != self.params:
            keys = sorted(set(state["params"]) | set(self.params))
            differ = [
                f"{k}={state['params'].get(k)} (here {self.params.get(k)})"
                for k in keys
                if state["params"].get(k) != self.params.get(k)
            ]
            raise ValueError(
                f"checkpoint={self.dirname!r} was written by a fit with other "
                f"parameters: {', '.join(differ)}. A fit resumes only with the "
                "same parameters (callbacks and verbose may differ). Give "
                "another directory, or remove it to start afresh."
            )
        return state

    # -- stages -----------------------------------------------------------

    def begin_stage(self, net):
        """Called by the net's ``partial_fit``; True when the stage is skipped."""
        self.stage += 1
        self.stage_epochs = 0
        saved = self.saved
        if saved is None or self.stage > saved["stage"]:
            return False
        if self.stage < saved["stage"]:
            return True  # done before the crash; the saved state comes later
        if saved["complete"]:
            self.restore(net)  # the stage ended before the crash
            return True
        return False  # restored by the callback once the stage has begun

    def restore_in_stage(self, net):
        """At ``on_train_begin`` of the saved, unfinished stage."""
        saved = self.saved
        if saved is None or self.stage != saved["stage"]:
            return
        self.restore(net)
        self.stage_epochs = saved["stage_epochs"]
        net._resume_skip_epochs = saved["stage_epochs"]

    # -- state ------------------------------------------------------------

    def capture(self, net, complete):
        est = self.estimator
        modules = {}
        for name in net._modules + net._criteria:
            module = getattr(net, name + "_", None)
            if isinstance(module, torch.nn.Module):
                modules[name] = module.state_dict()
        callbacks = {}
        for name, cb in net.callbacks_:
            if isinstance(cb, CheckpointCallback):
                continue
            callbacks[name] = _callback_state(cb)
        sampler = getattr(net, "iterator_train__sampler", None)
        rng = {"torch": torch.get_rng_state()}
        device = torch.device(est.device)
        if device.type == "cuda" and torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state(device)
        if self.iterator is not None and hasattr(self.iterator, "_rng"):
            rng["iterator"] = random_state_state(self.iterator._rng)
        if self.fit_state is not None and self.fit_state.rng is not None:
            rng["fit"] = random_state_state(self.fit_state.rng)
        # The fit's own generators (initial weights, dropout, a method's draws).
        streams = getattr(net, "random_streams", None)
        if streams is not None:
            rng["streams_cpu"] = streams.cpu.get_state()
            if streams.device is not streams.cpu:
                rng["streams_device"] = streams.device.get_state()
        return {
            "format": FORMAT,
            "estimator": type(est).__name__,
            "data": self.fingerprint,
            "params": self.params,
            "rng_start": self.rng_start,
            "stage": self.stage,
            "stage_epochs": self.stage_epochs,
            "complete": complete,
            "modules": modules,
            "optimizers": {
                name: getattr(net, name + "_").state_dict()
                for name in net._optimizers
                if hasattr(getattr(net, name + "_", None), "state_dict")
            },
            "callbacks": callbacks,
            "sampler": None if sampler is None else _sampler_state(sampler),
            "rng": rng,
            "method": est._checkpoint_state(self.fit_state),
            "history": json.dumps(net.history.to_list(), default=_json_default),
        }

    def restore(self, net):
        from skorch.history import History

        saved, self.saved = self.saved, None
        est = self.estimator
        for name, weights in saved["modules"].items():
            getattr(net, name + "_").load_state_dict(weights)
        for name, opt_state in saved["optimizers"].items():
            getattr(net, name + "_").load_state_dict(opt_state)
        callbacks = dict(net.callbacks_)
        for name, cb_state in saved["callbacks"].items():
            if name in callbacks:
                _load_callback_state(callbacks[name], cb_state)
        sampler = getattr(net, "iterator_train__sampler", None)
        if sampler is not None and saved["sampler"] is not None:
            _load_sampler_state(sampler, saved["sampler"])
        rng = saved["rng"]
        torch.set_rng_state(rng["torch"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state(rng["cuda"], torch.device(est.device))
        if "fit" in rng and self.fit_state is not None:
            set_random_state(self.fit_state.rng, rng["fit"])
        streams = getattr(net, "random_streams", None)
        if streams is not None and "streams_cpu" in rng:
            streams.cpu.set_state(rng["streams_cpu"])
            if "streams_device" in rng:
                streams.device.set_state(rng["streams_device"])
        self.pending_iterator = rng.get("iterator")
        if self.iterator is not None and self.pending_iterator is not None:
            set_random_state(self.iterator._rng, self.pending_iterator)
            self.pending_iterator = None
        net.history = History(json.loads(saved["history"]))
        est._restore_checkpoint(self.fit_state, saved["method"])

    def training_iterator(self, iterator):
        """The net built this stage's training iterator (its shuffling state)."""
        self.iterator = iterator
        if self.pending_iterator is not None and hasattr(iterator, "_rng"):
            set_random_state(iterator._rng, self.pending_iterator)
            self.pending_iterator = None

    def save(self, net, complete):
        write_atomically(self.capture(net, complete), self.path)

    def finish(self, interrupted):
        """After the fit: remove the files unless kept (or the fit was interrupted)."""
        self.iterator = self.fit_state = None
        if self.keep or interrupted:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.dirname)  # only when nothing else is left in it


def open_checkpoint(estimator, X, y_enc, sample_weight, X_val, y_val, rng):
    """Read the estimator's checkpoint (refusing one of another fit); None without."""
    param = estimator.checkpoint
    keep = False
    if isinstance(param, Checkpoint):
        param, keep = param.dirname, bool(param.keep)
    if getattr(estimator, "distributed", False):
        raise ValueError(
            "checkpoint is not supported with distributed=True yet: every rank "
            "would write the same directory. Set checkpoint=None."
        )
    fit = FitCheckpoint(
        estimator,
        param,
        keep,
        data_fingerprint(estimator, X, y_enc, sample_weight, X_val, y_val),
        parameter_fingerprint(estimator),
    )
    os.makedirs(fit.dirname, exist_ok=True)
    fit.saved = fit.read()
    if fit.saved is not None:
        # The split and the seed are drawn again from the same random state
        # (random_state=None too: the state the interrupted fit started from).
        set_random_state(rng, fit.saved["rng_start"])
    fit.rng_start = random_state_state(rng)
    return fit


# -- the callback -------------------------------------------------------------------


class CheckpointCallback(Callback):
    """Restores the checkpoint when its stage begins; writes it at each epoch's end.

    The core adds it after every other callback, so that what it writes is
    the state every other callback left at the end of the epoch.
    """

    reads_batch_loss = False

    def __init__(self, checkpoint):
        self.checkpoint = checkpoint

    def on_train_begin(self, net, **kwargs):
        self.checkpoint.restore_in_stage(net)

    def on_epoch_end(self, net, **kwargs):
        self.checkpoint.stage_epochs += 1
        self.checkpoint.save(net, complete=False)

    def on_train_end(self, net, **kwargs):
        if not net.interrupted:
            self.checkpoint.save(net, complete=True)

    def release_fit_data(self):
        self.checkpoint = None


# -- callbacks and samplers -------------------------------------------------------------


def _callback_state(cb):
    own = getattr(cb, "checkpoint_state", None)
    if own is not None:
        return {"own": own()}
    state = {}
    for name, value in vars(cb).items():
        if not name.endswith("_") or name.startswith("_"):
            continue
        with contextlib.suppress(_NotPlain):
            state[name] = _plain(value)
    if isinstance(cb, LRScheduler) and cb.lr_scheduler_ is not None:
        state = {k: v for k, v in state.items() if k != "lr_scheduler_"}
        state["lr_scheduler_"] = {"scheduler": cb.lr_scheduler_.state_dict()}
    return {"attributes": state}


def _load_callback_state(cb, state):
    if "own" in state:
        cb.load_checkpoint_state(state["own"])
        return
    attributes = dict(state["attributes"])
    scheduler = attributes.pop("lr_scheduler_", None)
    for name, value in attributes.items():
        setattr(cb, name, value)
    if scheduler is not None and getattr(cb, "lr_scheduler_", None) is not None:
        cb.lr_scheduler_.load_state_dict(scheduler["scheduler"])


def _sampler_state(sampler):
    state = {}
    if hasattr(sampler, "p"):
        state["p"] = torch.from_numpy(np.asarray(sampler.p, dtype=np.float64).copy())
    if hasattr(sampler, "_rng"):
        state["rng"] = random_state_state(sampler._rng)
    for name in ("_seed", "epoch"):
        if hasattr(sampler, name):
            state[name] = getattr(sampler, name)
    return state


def _load_sampler_state(sampler, state):
    if "p" in state:
        sampler.p = state["p"].numpy().copy()
    if "rng" in state:
        set_random_state(sampler._rng, state["rng"])
    for name in ("_seed", "epoch"):
        if name in state:
            setattr(sampler, name, state[name])
