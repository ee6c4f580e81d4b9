"""The skorch net every skart network estimator trains: skart's defaults and a lean epoch loop."""

from collections.abc import Mapping

import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import (
    Callback,
    EpochTimer,
    LRScheduler,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
)
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator, to_tensor

from ._data import BatchIterator
from ._loss import per_row_loss
from ._random import detach


def softmax(logits):
    return torch.softmax(logits, dim=1)


def _as_float32(output):
    # Autocast's half-precision logits, as float32: the losses, the callbacks
    # and predict_proba then compute as they do without autocast.
    if isinstance(output, torch.Tensor) and output.dtype in (
        torch.bfloat16,
        torch.float16,
    ):
        return output.float()
    return output


class Net(NeuralNetClassifier):
    """skorch net with skart's defaults and a lean epoch loop for skart's own batches.

    ``precision`` (``"float32"``, ``"bfloat16"`` or ``"float16"``) runs the
    forward passes under :func:`torch.autocast` (:meth:`run_forward`); the
    parameters stay float32. ``compile=True`` (skorch's parameter) compiles
    the module's forward when training begins (:meth:`on_train_begin`),
    without replacing ``module_``.
    """

    def __init__(self, *args, precision="float32", **kwargs):
        super().__init__(*args, **kwargs)
        self.precision = precision

    # Why a method's training cannot run with precision="float16" (its net
    # refuses it when training begins), or None.
    float16_refusal = None

    # The gradient scaler of a float16 fit on CUDA, made when training begins.
    grad_scaler_ = None

    # (module, compiled module) under compile=True: the compiled forward of
    # that module, made when training begins. Kept in a tuple so that skorch
    # does not register it as a module of the net (its state_dict keys would
    # gain ``_orig_mod.``), and left out of pickles: an unpickled or loaded
    # estimator predicts with the plain module, compiling nothing.
    _compiled = None

    def torch_compile(self, module, name):
        # skorch's compile=True replaces module_ and criterion_ by compiled
        # modules: their state_dict keys change, and EGA's and AutoSMOTE's
        # look-ahead (a double backward, which compiled graphs do not support)
        # would run through them. The forward is compiled beside the module
        # instead (on_train_begin), for infer alone.
        return module

    @property
    def autocast_dtype(self):
        """The dtype the forward passes autocast to, or None (no autocast)."""
        precision = getattr(self, "precision", "float32")
        if precision == "float32":
            return None
        if precision == "float16" and torch.device(self.device).type != "cuda":
            # A float16 model loaded on a machine without CUDA (fit refuses
            # float16 elsewhere) predicts in float32.
            return None
        return getattr(torch, precision)

    def run_forward(self, forward, *args, **kwargs):
        """``forward(*args, **kwargs)`` under the net's autocast.

        A half-precision tensor result is returned as float32. In float32
        there is no autocast context at all: the call is ``forward(*args,
        **kwargs)``. Backward passes run outside it, as torch recommends.
        """
        dtype = self.autocast_dtype
        if dtype is None:
            return forward(*args, **kwargs)
        with torch.autocast(torch.device(self.device).type, dtype=dtype):
            output = forward(*args, **kwargs)
        return _as_float32(output)

    def infer(self, x, **fit_params):
        compiled = self._compiled
        module = (
            compiled[1]
            if compiled is not None and compiled[0] is self.module_
            else self.module_
        )
        if module is self.module_ and self.autocast_dtype is None:
            return super().infer(x, **fit_params)
        x = to_tensor(x, device=self.device)
        if isinstance(x, Mapping):
            return self.run_forward(
                module, **self._merge_x_and_fit_params(x, fit_params)
            )
        return self.run_forward(module, x, **fit_params)

    def backward(self, loss):
        """``loss.backward()``, through the gradient scaler in a float16 fit."""
        scaler = self.grad_scaler_
        (loss if scaler is None else scaler.scale(loss)).backward()

    def train_step_single(self, batch, **fit_params):
        if self.grad_scaler_ is None:
            return super().train_step_single(batch, **fit_params)
        # skorch's step, with the loss scaled for the backward pass.
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.backward(loss)
        return {"loss": loss, "y_pred": y_pred}

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_compiled", None)
        return state

    def _set_training(self, training=True):
        # skorch sets the mode before every batch, and ``Module.train`` walks
        # every submodule: a tenth of a small network's step. Only walk when
        # the mode changes.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    # The fit's torch generators (a ``FitGenerators``), set by the estimator
    # before the net is initialised; None builds modules as skorch does.
    random_streams = None

    def _initialize_module(self, reason=None):
        # Every module is built under the process-wide lock with torch's
        # global generator seeded (a user's module initialises reproducibly
        # in threads too), then initialised from the fit's own generator if
        # it can be (skart's MLP) and given it for its forward's draws. A
        # module instance used as given keeps its weights.
        streams = self.random_streams
        if streams is None:
            return super()._initialize_module(reason)
        with streams.construction():
            super()._initialize_module(reason)
        for name in self._modules:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module):
                streams.attach(module, reset=module is not getattr(self, name, None))
        return self

    def initialize_callbacks(self):
        super().initialize_callbacks()
        # Per-batch hooks of the callbacks that define them: skorch calls every
        # callback's (mostly empty) hook twice per batch.
        self._batch_hooks = {
            hook: [
                cb
                for _, cb in self.callbacks_
                if getattr(type(cb), hook) is not getattr(Callback, hook)
            ]
            for hook in ("on_batch_begin", "on_batch_end", "on_grad_computed")
        }
        return self

    def notify(self, method_name, **cb_kwargs):
        hooks = getattr(self, "_batch_hooks", {}).get(method_name)
        if hooks is None:
            return super().notify(method_name, **cb_kwargs)
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in hooks:
            getattr(cb, method_name)(self, **cb_kwargs)
        return None

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # Batch losses can wait for the end of the epoch when no callback
        # reads them during it (the class scoring reads the predictions only,
        # a learning rate stepped per epoch nothing; a progress bar reads the
        # losses).
        # A callback says so with ``reads_batch_loss = False``; one that does
        # not is assumed to read them (skorch's own contract).
        self._deferred_losses = all(
            getattr(cb, "reads_batch_loss", True) is False
            or (isinstance(cb, LRScheduler) and cb.step_every == "epoch")
            for cb in self._batch_hooks["on_batch_end"]
        )
        # Decided once per fit, not per batch: the lean step below is safe when
        # no callback listens to gradients and every optimiser is a torch
        # built-in that takes no closure (LBFGS needs one).
        self._lean_step = not self._batch_hooks["on_grad_computed"] and all(
            type(opt).__module__.startswith("torch.optim.")
            and not isinstance(opt, torch.optim.LBFGS)
            for opt in (getattr(self, name + "_") for name in self._optimizers)
        )
        self._begin_precision()
        if self.compile and (
            self._compiled is None or self._compiled[0] is not self.module_
        ):
            self._compiled = (self.module_, torch.compile(self.module_))

    def _begin_precision(self):
        """Refuse a float16 training the method cannot run; make its scaler."""
        if getattr(self, "precision", "float32") != "float16":
            return
        if self.float16_refusal is not None:
            raise ValueError(
                f"precision='float16' cannot train this network: "
                f"{self.float16_refusal} Use precision='bfloat16' (float32's "
                "range: no gradient scaler needed) or 'float32'."
            )
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        if any(isinstance(opt, torch.optim.LBFGS) for opt in optimizers):
            raise ValueError(
                "precision='float16' trains with a gradient scaler, which cannot "
                "drive an optimiser that takes a closure (LBFGS). Use "
                "precision='bfloat16' or another optimizer."
            )
        if self.grad_scaler_ is None:
            # One scaler for every stage of the fit: the loss scale it has
            # found carries over.
            self.grad_scaler_ = torch.amp.GradScaler("cuda")

    def train_step(self, batch, **fit_params):
        # skorch runs each step as an optimiser closure (for LBFGS), through a
        # step accumulator, and builds the on_grad_computed arguments even when
        # no callback listens. The same step without that machinery costs ~3%
        # less per batch; anything that needs it takes skorch's path.
        if self.grad_scaler_ is not None:
            return self._scaled_train_step(batch, **fit_params)
        if not getattr(self, "_lean_step", False):
            return super().train_step(batch, **fit_params)
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self._step_optimizer(None)
        return step

    def _scaled_train_step(self, batch, **fit_params):
        # A float16 step (torch's AMP recipe): the scaled loss's backward, the
        # gradients unscaled before any callback reads them, and the scaler's
        # step, which skips a step whose gradients overflowed.
        scaler = self.grad_scaler_
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        if self._batch_hooks["on_grad_computed"]:
            for optimizer in optimizers:
                scaler.unscale_(optimizer)
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
            )
        for optimizer in optimizers:
            scaler.step(optimizer)
        scaler.update()
        return step

    # Weights of the validation rows (a tensor in the validation iterator's
    # order) when the fit is weighted; the estimator sets it.
    valid_sample_weight = None

    # Attributes that hold the fit's data, dropped by ``release_fit_data``; a
    # method's net adds its own.
    fit_data_attributes = (
        "train_split",
        "iterator_train__sampler",
        "valid_sample_weight",
        "resume",
        "random_streams",
        "grad_scaler_",
    )

    # The fit's checkpoint (skart._nn._checkpoint.FitCheckpoint) under
    # ``checkpoint=DIR``: it skips the stages a resumed fit already ran.
    resume = None
    _resume_skip_epochs = 0

    # The fit's Interrupt (skart._nn._interrupt) while the estimator trains.
    interrupt = None

    @property
    def interrupted(self):
        """Whether the user interrupted this fit (Ctrl-C): no more training then."""
        return self.interrupt is not None and self.interrupt.interrupted

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        # After a Ctrl-C, a method's next stage does not train.
        if self.interrupted:
            return self
        if self.resume is not None and self.resume.begin_stage(self):
            return self  # a resumed fit: this stage ran before the crash
        return super().partial_fit(X, y, classes=classes, **fit_params)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # A resumed stage runs the epochs it had left.
        skip, self._resume_skip_epochs = self._resume_skip_epochs, 0
        if skip:
            epochs = max((self.max_epochs if epochs is None else epochs) - skip, 0)
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if training and self.resume is not None:
            self.resume.training_iterator(iterator)
        return iterator

    def release_fit_data(self):
        """Drop every reference to the fit's data: the net's and its callbacks'."""
        for name in self.fit_data_attributes:
            setattr(self, name, None)
        for name in self._modules:  # a fitted module draws from torch's generator
            module = getattr(self, name + "_", None)
            if isinstance(module, torch.nn.Module):
                detach(module)
        for _, cb in getattr(self, "callbacks_", []):
            release = getattr(cb, "release_fit_data", None)
            if release is not None:
                release()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        weights = self.valid_sample_weight
        criterion = self.criterion_
        if training or weights is None or not hasattr(criterion, "reduction"):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        y_true = to_tensor(y_true, device=self.device)
        losses = per_row_loss(criterion, y_pred, y_true)  # (B,)
        return self.weighted_valid_loss(losses)

    def weighted_valid_loss(self, losses):
        """The weighted mean of a validation batch's per-row ``losses``.

        The batch's rows are the next ones of the validation iterator, whose
        weights are ``valid_sample_weight``. skorch averages the batch losses
        by batch size, so each batch is scaled by the fold's mean weight: the
        epoch's ``valid_loss`` is then ``sum(w * l) / sum(w)``.
        """
        weights = self.valid_sample_weight
        start = self._valid_row
        w = weights[start : start + len(losses)].to(losses.dtype)  # (B,)
        self._valid_row = start + len(losses)
        return (w * losses).mean() / weights.mean()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch's loop, except that the batch size of our (tensor, tensor)
        # batches is read with len() rather than the generic get_len(), which
        # walks nested containers (~2% of a small network's step).
        self._valid_row = 0  # position of the next validation batch's rows
        if not isinstance(iterator, BatchIterator):
            return super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )
        history = self.history
        if not getattr(self, "_deferred_losses", False):
            batch_count = 0
            for batch in iterator:
                self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                history.record_batch(prefix + "_loss", step["loss"].item())
                history.record_batch(prefix + "_batch_size", len(batch[0]))
                self.notify("on_batch_end", batch=batch, training=training, **step)
                batch_count += 1
            history.record(prefix + "_batch_count", batch_count)
            return None
        # ``loss.item()`` waits for the device at every step, most of a small
        # network's step time on a GPU. The losses stay on the device and are
        # read once per epoch, into the same history entries.
        # They go into one buffer allocated with the first: a list of scalar
        # tensors kept over the epoch fragments the heap between the batches'
        # buffers (~20 KB of resident memory per batch on CPU).
        batches = history[-1]["batches"]
        first = len(batches)
        losses, sizes = None, []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            loss = step["loss"].detach()
            if losses is None or len(sizes) == len(losses):
                more = loss.new_empty(max(len(iterator) - len(sizes), 1))
                losses = more if losses is None else torch.cat([losses, more])
            losses[len(sizes)] = loss
            sizes.append(len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        values = losses[: len(sizes)].tolist() if sizes else []  # the one sync
        for entry, loss, size in zip(batches[first:], values, sizes):
            entry[prefix + "_loss"] = loss
            entry[prefix + "_batch_size"] = size
        history.record(prefix + "_batch_count", len(sizes))
        return None

    @property
    def _default_callbacks(self):
        log = ProgressBar() if self.verbose > 1 else None
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            *([("progress_bar", log)] if log else []),
            ("print_log", PrintLog()),
        ]
