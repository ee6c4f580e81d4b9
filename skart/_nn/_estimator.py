"""The method-neutral core of skart's network estimators: the estimator.

:class:`BaseNetClassifier` holds the contract every network method follows
(its docstring states the hooks): the parameters of the network and its
training, routed ``module__*`` / ``criterion__*`` / ... parameters, input
checks, the validation split, seeding, the device, the skorch net built at
``fit`` with the core's callbacks (per-class scoring, the finite-loss guard,
the learning-rate schedule, early stopping), the decision rule, persistence,
batched prediction and data-parallel training. It names no method: a method
adds its own part through the hooks (ART's resampling is such a part,
:mod:`skart._art._resampling`), in one file or one small package.
"""

import copy
import json
import os
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import (
    EarlyStopping,
    LRScheduler,
)
from skorch.helper import predefined_split
from skorch.history import History
from tqdm.auto import tqdm

from .._decision import binary_threshold, tune_offsets
from .._params import HasMethods, Interval, StrOptions
from .._validation import (
    accepts,
    check_weights,
    check_X,
    check_X_y,
    draw_seed,
    encode_labels,
    stratified_split,
    train_valid_folds,
)
from ._callbacks import (
    ClassScoring,
    FiniteLossGuard,
    LossOrMetricStopping,
    MonitorOptions,
    ProbaScoring,
    ScoreStopping,
    is_proba_monitor,
)
from ._checkpoint import Checkpoint, CheckpointCallback, open_checkpoint
from ._data import ArrayDataset, BatchIterator
from ._distributed import DistributedFit
from ._interrupt import catch_interrupts
from ._net import Net, softmax
from ._network import MLP
from ._onnx import export_onnx
from ._persistence import save_fitted
from ._random import FitGenerators
from ._state import FitState
from ._torch_datasets import (
    DatasetFold,
    check_dataset,
    dataset_folds,
    dataset_labels,
    input_shape,
    is_dataset,
    is_pair,
    item_input,
)

# Parameters of the wrapped net that are given flat, skorch-style, as
# ``<prefix>__<name>``: they reach the module, criterion, optimizer, ...
ROUTED_PREFIXES = (
    "module__",
    "criterion__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
)


class BaseNetClassifier(ClassifierMixin, BaseEstimator):
    """Base of skart's network classifiers; not meant to be used directly.

    The contract between the core and a method
    ------------------------------------------
    A method is a subclass. It defines ``__init__`` (its own parameters and
    the core's, stored as given; keyword arguments routed as ``**kwargs``),
    adds its own entries to ``_parameter_constraints`` (the constraints of
    :mod:`skart._params`), decorates ``fit`` with ``fit_context`` and calls
    :meth:`_fit`. :meth:`_fit` checks the input, splits it, builds a
    :class:`FitState` and calls the hooks below, in this order; each receives
    that one state.

    ``_net_class`` (attribute)
        The skorch net class (default :class:`Net`). A method's net may list
        in ``fit_data_attributes`` the attributes that hold training data.
    ``_input_checks`` (attribute)
        Overrides of the input checks, e.g. ``{"accept_sparse": False}``.
    ``_keeps_best_epoch`` (attribute)
        True when a callback of the method keeps the best epoch (a
        :class:`KeepBestEpoch`): early stopping then stops without restoring.
    ``_synthesises_features`` (attribute)
        True for a method that builds new feature vectors from the training
        rows (EGA, AutoSMOTE): a torch Dataset of feature vectors is read
        into an array before the split, other Datasets and
        ``train_transform`` are refused. Otherwise ``state.X_train`` is None
        in a fit on a Dataset, and the folds are ``DatasetFold`` s.
    :meth:`_class_sampler`
        The training fold's class sampler, or None for plain shuffling.
    :meth:`_prepare_fit`
        Called once the state is complete (sampler built, shards made),
        before the net is built: where a warm start puts the method's
        carried state (``state.warm``) into effect.
    :meth:`_scoring_callback`, :meth:`_method_callbacks`
        The per-class scoring callback and the method's own callbacks.
    :meth:`_net_kwargs`
        Extra keyword arguments of the net class. It has no side effects and
        also runs when :func:`skart.load_fitted` rebuilds the net from a file
        (``state.has_data`` is False then).
    :meth:`_train`
        Trains ``net_`` under the fit's torch seed (by default one
        :meth:`_train_net`); it returns what :meth:`_fitted_attributes`
        needs, or None. A method draws its own random numbers from the
        fit's generators (``state.generators``), never from torch's global
        generator, which threads share.
    :meth:`_fitted_attributes`
        The method's fitted attributes, computed while the training data are
        still there. The core sets them, with its own, in one place, and then
        drops every reference to the training data (the net's
        ``fit_data_attributes`` and the callbacks' ``release_fit_data``).
    :meth:`_checkpoint_state`, :meth:`_restore_checkpoint`
        Under ``checkpoint=DIR`` (:mod:`skart._nn._checkpoint`): the method's
        own training state that the core's checkpoint does not hold (the
        core holds every module, optimiser, callback's plain ``*_``
        attributes, the net's sampler, the random streams and the history),
        as tensors and plain containers, written with every checkpoint; and
        how to put it back. A training *stage* is one call of the net's
        ``partial_fit``: a resumed fit skips the stages that ended before the
        crash and restores the saved state, this hook's included, when the
        saved stage begins (at its ``on_train_begin``, or in place of a stage
        that had ended). The code of ``_train`` between two stages runs
        again, so what it computes must either be the same or be put back by
        :meth:`_restore_checkpoint`.

    Warm-start state is not kept in private attributes: on a warm start,
    ``state.warm`` holds the previous fit's fitted attributes.
    """

    _parameter_constraints: dict = {
        "module": [None, type, HasMethods(["forward"])],
        "metric": [StrOptions({"f1", "recall", "precision"}), callable],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "criterion": [None, type, HasMethods(["forward"])],
        "optimizer": [callable],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "train_transform": [None, callable],
        "patience": [None, Interval(Integral, 1, None, closed="left")],
        "lr_schedule": [None, StrOptions({"cosine"})],
        "device": [str, torch.device],
        "precision": [StrOptions({"float32", "bfloat16", "float16"})],
        "compile": ["boolean"],
        "callbacks": [None, list],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "class_weight": [None, StrOptions({"balanced"}), dict],
        "warm_start": ["boolean"],
        "monitor": [MonitorOptions(), callable],
        "decision": [StrOptions({"argmax", "tuned"})],
        "distributed": ["boolean"],
        "checkpoint": [None, str, os.PathLike, Checkpoint],
    }

    _net_class = Net

    # True when a callback of the method keeps and restores the best epoch
    # (EGA's, by validation AP): early stopping then stops without restoring.
    _keeps_best_epoch = False

    # True for a method that synthesises feature vectors (EGA, AutoSMOTE): a
    # torch Dataset of feature vectors is read into an array, others refused.
    _synthesises_features = False

    # Overrides of the input checks (``skart._validation.X_CHECKS``) for fit,
    # the validation set and prediction, e.g. ``{"accept_sparse": False}``.
    _input_checks: dict = {}

    # -- parameters ---------------------------------------------------------

    def _extra_params(self):
        # Keyword arguments beyond the signature: public, non-fitted attributes.
        named = self._get_param_names()
        return {
            k: v
            for k, v in vars(self).items()
            if k not in named and not k.startswith("_") and not k.endswith("_")
        }

    def _routed_params(self):
        extra = self._extra_params()
        unknown = [k for k in extra if not k.startswith(ROUTED_PREFIXES)]
        if unknown:
            raise ValueError(
                f"{type(self).__name__} got unknown parameters {unknown}. Its own "
                f"parameters are {self._get_param_names()}; parameters of the "
                f"network go flat with one of the prefixes {', '.join(ROUTED_PREFIXES)} "
                "(e.g. module__hidden_units=(128, 64))."
            )
        return extra

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._extra_params())
        return params

    def set_params(self, **params):
        routed = {k: v for k, v in params.items() if k.startswith(ROUTED_PREFIXES)}
        vars(self).update(routed)
        super().set_params(**{k: v for k, v in params.items() if k not in routed})
        return self

    # -- data ---------------------------------------------------------------

    @staticmethod
    def _to_tensor(X):
        if sp.issparse(X):
            return sp.csr_matrix(X, dtype=np.float32)
        return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))

    def _dataset(self, X, y=None):
        X = self._to_tensor(X)
        device = torch.device(self.device)
        # Labels keep their (compact) dtype; the dataset's batches are int64.
        return ArrayDataset(
            X if sp.issparse(X) else X.to(device),
            None if y is None else torch.from_numpy(y).to(device),
        )

    # -- hooks --------------------------------------------------------------

    def _class_sampler(self, state):
        """The training fold's class sampler: by weight in a weighted fit."""
        return None if state.w_train is None else state.class_sampler()

    def _prepare_fit(self, state):
        """Put a warm start's carried state into effect (``state.warm``)."""

    def _scoring_callback(self, state):
        """The callback that scores the classes on the validation fold."""
        return "scoring", ClassScoring(
            self.metric,
            sample_weight=state.valid_weights,
            distributed=state.ddp is not None,
        )

    def _method_callbacks(self, state):
        """The method's own callbacks, run after the scoring and before the schedule."""
        return []

    def _net_kwargs(self, state):
        """Extra keyword arguments of the method's net class (no side effects)."""
        return {}

    def _train(self, state):
        """Train ``net_`` on the training fold (under the fit's torch seed)."""
        self._train_net(state)

    def _train_net(self, state, epochs=None):
        """Train ``net_`` on ``state.train_ds``: one skorch ``fit``, or, under
        ``distributed=True``, a data-parallel ``partial_fit``."""
        if state.ddp is not None:
            state.ddp.fit(self.net_, state.train_ds)
        elif epochs is None:
            self.net_.fit(state.train_ds, None)
        else:
            self.net_.fit(state.train_ds, None, epochs=epochs)

    def _fitted_attributes(self, state, trained):
        """The method's fitted attributes (name to value), from ``_train``'s result."""
        return {}

    def _checkpoint_state(self, state):
        """The method's own training state for a checkpoint (plain values)."""
        return {}

    def _restore_checkpoint(self, state, saved):
        """Put back what :meth:`_checkpoint_state` returned."""

    # -- fit ----------------------------------------------------------------

    def _build_net(self, data):
        ddp = data.ddp
        routed = self._routed_params()
        # Instances are copied: training must not touch the objects we were given.
        module = MLP if self.module is None else copy.deepcopy(self.module)
        if accepts(module, "n_features"):
            routed.setdefault("module__n_features", data.n_features)
        if accepts(module, "n_classes"):
            routed.setdefault("module__n_classes", len(data.class_counts))
        criterion = (
            torch.nn.CrossEntropyLoss
            if self.criterion is None
            else copy.deepcopy(self.criterion)
        )
        if isinstance(criterion, torch.nn.Module):
            # skorch uses an instance as it is; fill its counts in place (it is our copy).
            if getattr(criterion, "class_counts", False) is None:
                criterion.class_counts = torch.as_tensor(
                    data.class_counts, dtype=torch.float32
                )
        elif accepts(criterion, "class_counts"):
            routed.setdefault("criterion__class_counts", data.class_counts)
        # Fused Adam(W) kernels: the optimiser step is a third of a small net's step.
        fusable = self.optimizer in (torch.optim.AdamW, torch.optim.Adam)
        if fusable and torch.device(self.device).type in ("cpu", "cuda"):
            if "optimizer__foreach" not in routed:  # torch refuses both
                routed.setdefault("optimizer__fused", True)
        # Evaluation keeps no activations for backward: larger batches cost no
        # more memory than training does and take less Python per row.
        routed.setdefault("iterator_valid__batch_size", 4 * self.batch_size)
        if torch.device(self.device).type == "cuda":
            # Items read by a DataLoader go to the GPU from pinned memory.
            for fold in ("train", "valid"):
                if isinstance(getattr(data, f"{fold}_ds"), DatasetFold):
                    routed.setdefault(f"iterator_{fold}__pin_memory", True)
        scoring = self._scoring_callback(data)
        # The finite-loss guard runs first (after the ranks agree on the
        # losses): no callback then scores a diverged epoch.
        callbacks = [
            *(ddp.callbacks() if ddp else []),
            ("finite_loss", FiniteLossGuard()),
            scoring,
        ]
        monitor = self.monitor
        if is_proba_monitor(monitor):
            # Scored from the validation pass's logits, before any callback
            # (early stopping, a method's best epoch) reads it.
            proba_scoring = ProbaScoring(
                monitor,
                sample_weight=data.valid_weights,
                distributed=ddp is not None,
            )
            if proba_scoring.key in ("valid_loss", f"valid_{scoring[1].metric_name}"):
                raise ValueError(
                    f"monitor={monitor!r} would record its score as "
                    f"{proba_scoring.key!r}, which the validation loss or the "
                    "per-class metric records already. Use monitor='loss' or "
                    "monitor='metric' to stop on those, or give the callable "
                    "another name."
                )
            callbacks.append(("monitor", proba_scoring))
        callbacks += self._method_callbacks(data)
        if self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_scheduler",
                    LRScheduler(
                        policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                        T_max=self.max_epochs,
                        # A fresh cycle from ``lr`` in every fit, a warm
                        # start's too (skorch would go on from the history).
                        last_epoch=-1,
                    ),
                )
            )
        if self.patience is not None:
            # A method whose own callback keeps the best epoch (by another
            # score) has early stopping only stop.
            load_best = not self._keeps_best_epoch
            if monitor == "loss":
                stopping = EarlyStopping(patience=self.patience, load_best=load_best)
            elif is_proba_monitor(monitor):
                stopping = ScoreStopping(
                    monitor=proba_scoring.key,
                    lower_is_better=proba_scoring.lower_is_better,
                    patience=self.patience,
                    load_best=load_best,
                )
            else:
                rule = EarlyStopping if monitor == "metric" else LossOrMetricStopping
                stopping = rule(
                    monitor=f"valid_{scoring[1].metric_name}",
                    lower_is_better=False,
                    patience=self.patience,
                    load_best=load_best,
                )
            callbacks.append(("early_stopping", stopping))
        callbacks += copy.deepcopy(list(self.callbacks or []))
        if data.checkpoint is not None:
            # Last: it writes what every other callback left at the epoch's end.
            callbacks.append(("checkpoint", CheckpointCallback(data.checkpoint)))
        # The printed log leaves out the per-class lists the callbacks record.
        hidden = [
            key
            for item in callbacks
            for key in getattr(
                item[1] if isinstance(item, tuple) else item, "log_keys_ignored", ()
            )
        ]
        routed.setdefault("callbacks__print_log__keys_ignored", hidden)
        return self._net_class(
            module=module,
            criterion=criterion,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=BatchIterator,
            iterator_valid=BatchIterator,
            iterator_train__shuffle=True,
            iterator_train__sampler=ddp.train_sampler if ddp else data.sampler,
            iterator_train__random_state=data.seed,
            train_split=predefined_split(data.valid_ds),
            callbacks=callbacks,
            predict_nonlinearity=softmax,
            device=self.device,
            precision=self.precision,
            compile=self.compile,
            verbose=self.verbose,
            **{**self._net_kwargs(data), **routed},
        )

    def _check_warm_start(self, previous):
        """Refuse to continue a fit on data of other classes or features."""
        classes, n_features = previous["classes_"], previous["n_features_in_"]
        changed = None
        if self.n_features_in_ != n_features:
            changed = f"{n_features} features, now {self.n_features_in_}"
        elif len(self.classes_) != len(classes) or np.any(self.classes_ != classes):
            changed = f"classes {classes.tolist()}, now {self.classes_.tolist()}"
        if changed is not None:
            self.classes_, self.n_features_in_ = classes, n_features
            raise ValueError(
                f"warm_start=True continues the fitted network, which was trained "
                f"on {changed}. Fit on data with the same features and classes, or "
                "set warm_start=False to train a new network."
            )

    def _continue_from(self, previous_net):
        """Start ``net_`` from the weights, optimiser state and history of a fit."""
        net = self.net_
        net.warm_start = True  # skorch's fit then skips initialize()
        net.initialize()
        # The fresh optimiser's learning rates, one per parameter group (a
        # method may give its second module a rate of its own).
        fresh_lrs = [group["lr"] for group in net.optimizer_.param_groups]
        # Every module and criterion of the net (a method's second module,
        # such as AutoSMOTE's decision networks, included) and the optimiser.
        try:
            for name in net._modules + net._criteria:
                module = getattr(net, name + "_")
                if isinstance(module, torch.nn.Module):
                    module.load_state_dict(
                        getattr(previous_net, name + "_").state_dict()
                    )
            net.optimizer_.load_state_dict(previous_net.optimizer_.state_dict())
        except (RuntimeError, ValueError) as exc:
            raise ValueError(
                "warm_start=True continues the fitted network, but the parameters "
                "now build a network of another shape (a module__* or other "
                "architecture parameter changed since the last fit). Restore "
                "them, or set warm_start=False to train a new network. "
                f"torch said: {exc}"
            ) from exc
        for group, lr in zip(net.optimizer_.param_groups, fresh_lrs):
            # The moments carry over; the learning rate starts a new cycle.
            group["lr"] = lr
            group.pop("initial_lr", None)
        net.history = previous_net.history

    def _class_sample_weight(self, y_enc, sample_weight):
        """``sample_weight`` times ``class_weight``'s weight of each row's class.

        As scikit-learn's classifiers weigh rows (``LogisticRegression``,
        ``SGDClassifier``): ``"balanced"`` is computed on the whole ``y`` given
        to fit, unweighted, and multiplies the sample weights. Equal products
        take the unweighted path, as equal sample weights do.
        """
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            known = self.classes_.tolist()
            unknown = [k for k in class_weight if k not in known]
            if unknown:
                raise ValueError(
                    f"class_weight has keys {unknown!r} that are not classes of "
                    f"y; the classes are {known!r}."
                )
            # The keys as class indices: the labels are encoded by now.
            class_weight = {known.index(k): w for k, w in class_weight.items()}
        weights = compute_sample_weight(class_weight, y_enc)
        if sample_weight is not None:
            weights = sample_weight * weights
        return check_weights(weights, len(y_enc))

    def _feature_vectors(self, X, y, X_val, y_val):
        """Read torch Datasets of feature vectors into arrays (EGA, AutoSMOTE).

        A method that synthesises feature vectors between training rows needs
        them in memory, as an array would be; other datasets are refused.
        """
        name = type(self).__name__
        if self.train_transform is not None:
            raise ValueError(
                f"{name} synthesises feature vectors from the training rows and "
                "cannot augment them item by item: train_transform must be None. "
                "Augment with ARTClassifier or DecoupledClassifier."
            )
        out = []
        for data, labels in ((X, y), (X_val, y_val)):
            if data is None or not is_dataset(data):
                out += [data, labels]
                continue
            labels, pairs, first = dataset_labels(data, labels, name)
            shape = input_shape(first, pairs)
            if len(shape) != 1:
                raise ValueError(
                    f"{name} synthesises new feature vectors between training "
                    "rows, so it needs a Dataset whose inputs are feature vectors "
                    f"(1-d); this one's have shape {shape}. Embed the inputs first "
                    "(with the penultimate layer of a trained network, say) and "
                    "pass the embeddings as an array or a TensorDataset, or train "
                    "on this dataset with ARTClassifier or DecoupledClassifier."
                )
            rows = np.empty((len(data), shape[0]), dtype=np.float32)
            for i in range(len(data)):
                rows[i] = np.asarray(item_input(data[i], pairs), dtype=np.float32)
            out += [rows, labels]
        return tuple(out)

    def _fit(self, X, y, X_val=None, y_val=None, sample_weight=None):
        """Check the data, split it, build the net, train it; return ``self``."""
        self._routed_params()  # unknown names fail before any work
        if self.precision == "float16" and torch.device(self.device).type != "cuda":
            raise ValueError(
                f"precision='float16' needs a CUDA device (it trains with CUDA's "
                f"gradient scaler), but device={str(self.device)!r}. On the CPU "
                "use precision='bfloat16': float32's range, no scaler needed."
            )
        # ``distributed`` is the one core parameter a method may leave out (a
        # method whose training cannot run data-parallel).
        ddp = DistributedFit(self) if getattr(self, "distributed", False) else None
        warm = None
        if self.warm_start and hasattr(self, "net_"):
            # What the fit being continued learned, before anything changes.
            warm = {k: v for k, v in vars(self).items() if k.endswith("_")}
        pairs = None  # whether a torch Dataset's items are (input, label) pairs
        if is_dataset(X) and self._synthesises_features:
            X, y, X_val, y_val = self._feature_vectors(X, y, X_val, y_val)
        if is_dataset(X):
            y_raw, pairs, first = dataset_labels(X, y, type(self).__name__)
            shape = input_shape(first, pairs)
            y_enc = encode_labels(self, y_raw, compact_labels=True)
            self.n_features_in_ = shape[0] if shape else 1
            n_features = int(np.prod(shape))
        else:
            # One byte per row for up to 256 classes: the labels live as long as
            # the float32 copy, and int64 ones weigh a quarter of 32 features.
            X, y_enc = check_X_y(self, X, y, compact_labels=True, **self._input_checks)
            n_features = int(np.prod(X.shape[1:]))
        if warm is not None:
            self._check_warm_start(warm)
        n_classes = len(self.classes_)
        sample_weight = check_weights(sample_weight, len(y_enc))
        if getattr(self, "class_weight", None) is not None:
            sample_weight = self._class_sample_weight(y_enc, sample_weight)
        rng = check_random_state(self.random_state)
        if ddp is not None:  # the same data and random state on every rank
            rng = ddp.check_data(X, y_enc, sample_weight, rng)
        checkpoint = None
        if self.checkpoint is not None:
            # Refuses a checkpoint of other data or parameters before any work.
            checkpoint = open_checkpoint(
                self, X, y_enc, sample_weight, X_val, y_val, rng
            )
        if pairs is not None:
            train_ds, valid_ds, y_tr, y_va, w_tr, w_va = dataset_folds(
                X,
                y_enc,
                X_val,
                y_val,
                self.validation_fraction,
                rng,
                stratified_split,
                pairs=pairs,
                fit=(self, self.train_transform, sample_weight),
            )
            X_tr = X_va = None  # never read whole
        else:
            X_tr, y_tr, X_va, y_va, w_tr, w_va = train_valid_folds(
                self,
                X,
                y_enc,
                X_val,
                y_val,
                self.validation_fraction,
                rng,
                sample_weight=sample_weight,
                dtype=np.float32,  # what the network trains on: one copy, no more
                **self._input_checks,
            )
        del X, y_enc  # the validated input (a converted DataFrame, say) can go
        y_va = y_va.astype(np.int64)  # read as int64 by the methods' own losses
        if pairs is None:
            train_ds = self._dataset(X_tr, y_tr)
            valid_ds = self._dataset(X_va, y_va)
            if self.train_transform is not None:
                # Rows read one at a time, each input transformed.
                train_ds = DatasetFold(
                    train_ds, None, y_tr, pairs=True, transform=self.train_transform
                )
        for fold, w in (("training", w_tr), ("validation", w_va)):
            if w is not None and not (w > 0).any():
                raise ValueError(
                    f"Every row of the {fold} fold has sample_weight 0: give "
                    "weight to more rows, or pass X_val and y_val."
                )
        seed = draw_seed(rng)
        class_counts = np.bincount(y_tr, minlength=n_classes)
        device = torch.device(self.device)
        state = FitState(
            class_counts=class_counts,
            n_features=n_features,
            X_train=X_tr,
            y_train=y_tr,
            X_valid=X_va,
            y_valid=y_va,
            w_train=w_tr,
            w_valid=w_va,
            valid_weights=(
                None if w_va is None else torch.as_tensor(w_va, device=device)
            ),
            train_ds=train_ds,
            valid_ds=valid_ds,
            seed=seed,
            generators=FitGenerators(seed, device),
            rng=rng,
            ddp=ddp,
            warm=warm,
            checkpoint=checkpoint,
        )
        state.sampler = self._class_sampler(state)
        if ddp is not None:
            ddp.shard(state)
        self._prepare_fit(state)
        previous_net = self.net_ if warm is not None else None
        self.net_ = self._build_net(state)
        # The fit's own torch generators: its modules are built and drawn from
        # with them, never with torch's global one, which threads share.
        self.net_.random_streams = state.generators
        if warm is not None:
            self._continue_from(previous_net)
        self.net_.valid_sample_weight = state.valid_weights
        if checkpoint is not None:
            checkpoint.fit_state = state
            self.net_.resume = checkpoint
        with state.generators.training(), catch_interrupts() as stop:
            self.net_.interrupt = stop
            trained = self._train(state)
        self.net_.interrupt = None
        if checkpoint is not None:
            checkpoint.finish(interrupted=stop.interrupted)
        if stop.interrupted:
            self._warn_interrupted()
        if ddp is not None:
            ddp.unshard(state)
        # The one place where fitted attributes are set and training data dropped.
        fitted = {
            "class_counts_": class_counts,
            "sampling_distribution_": (
                state.sampler.p
                if state.sampler is not None
                else class_counts / class_counts.sum()
            ),
            **self._fitted_attributes(state, trained),
        }
        vars(self).update(fitted)
        self._release_fit_data()
        self._fit_decision(state)
        if ddp is not None:
            ddp.finish(self)
        self.n_iter_ = len(self.net_.history)
        return self

    def _warn_interrupted(self):
        """Mark the history and warn: the user stopped training (Ctrl-C)."""
        history = self.net_.history
        if len(history):
            history.record("interrupted", True)
        warnings.warn(
            f"{type(self).__name__}.fit was interrupted (KeyboardInterrupt) after "
            f"{len(history)} epochs: training stopped, the best weights so far are "
            "kept (with early stopping) and the estimator is fitted on them; the "
            "history's last row has interrupted=True.",
            UserWarning,
            stacklevel=4,
        )

    def _fit_decision(self, data):
        """Fit the decision rule of ``predict`` on the validation fold."""
        n_classes = len(self.classes_)
        if self.decision == "argmax":
            self.decision_offsets_ = np.zeros(n_classes)
        else:
            proba = self._proba(data.valid_ds)
            with np.errstate(divide="ignore"):
                log_proba = np.log(proba)
            # Every class is tuned: leaving classes with fewer than 5
            # validation rows at 0 cost the plain network 1.5 macro-F1 points
            # (benchmarks/study_decision.py), so that guard was not kept.
            self.decision_offsets_ = tune_offsets(
                log_proba,
                data.y_valid,
                self.metric,
                min_support=1,
                sample_weight=data.w_valid,
            )
        if n_classes == 2:
            self.decision_threshold_ = binary_threshold(self.decision_offsets_)

    # -- persistence --------------------------------------------------------

    def save_fitted(self, path):
        """Save the fitted estimator to a file that loads without pickle.

        The file holds tensors, numbers, strings, lists and dicts only:
        every parameter (classes by import path), the weights of every
        module of the network, the fitted attributes and the history.
        :func:`skart.load_fitted` rebuilds the estimator from it alone, on
        any device, with ``torch.load(weights_only=True)``, which runs no
        code from the file. User ``callbacks`` are not saved, nor is the
        optimiser's state (a ``warm_start`` fit after loading starts a new
        optimiser).

        A path is written atomically: to a temporary file beside it, synced,
        then renamed onto it, so a save that fails part-way (a full disk)
        leaves the previous file intact. A file-like object is written
        directly, which cannot be atomic.

        Parameters
        ----------
        path : str, path-like or file-like object
            Where to write.

        Raises
        ------
        TypeError
            If ``module`` or ``criterion`` was given as an instance (give the
            class and its arguments as ``module__*`` / ``criterion__*``), or
            another parameter needed to predict is not a number, string,
            class, function, or a list or dict of them.
        """
        check_is_fitted(self, "net_")
        names = [
            name
            for name in vars(self)
            if name.endswith("_") and not name.startswith("_") and name != "net_"
        ]
        save_fitted(self, path, names)

    def to_onnx(self, path, *, input_shape=None, opset_version=None):
        """Export the fitted network and its softmax to an ONNX file for serving.

        The graph maps a float32 input ``X`` of shape ``(batch, *input_shape)``,
        any batch size, to ``proba``, the class probabilities of
        :meth:`predict_proba` (float32, columns in the order of ``classes_``).
        Sparse input must be made dense first. The decision rule stays in
        Python: ``predict`` is
        ``classes_[argmax(log(proba) + decision_offsets_, axis=1)]`` (the
        offsets are zero with ``decision="argmax"``, where it is the plain
        argmax); keep ``classes_`` and ``decision_offsets_`` beside the file.

        Needs the optional packages ``onnx`` and ``onnxscript``
        (``pip install 'skart[onnx]'``, which also installs ``onnxruntime``).
        The network is copied to the CPU in evaluation mode and exported with
        torch's exporter (``torch.onnx.export(dynamo=True)``); the estimator
        is not changed. A path is written atomically, as by
        :meth:`save_fitted`.

        Parameters
        ----------
        path : str, path-like or file-like object
            Where to write the ONNX model.
        input_shape : tuple of int, default=None
            The shape of one row of ``X``. ``None`` means ``(n_features_in_,)``,
            the shape of tabular data; give it when ``X`` had more than two
            dimensions in ``fit``, e.g. ``(1, 28, 28)``.
        opset_version : int, default=None
            The ONNX opset to target; ``None`` is torch's default.

        Raises
        ------
        ImportError
            If ``onnx`` or ``onnxscript`` is not installed.
        RuntimeError
            If torch cannot export the network (a user module with
            data-dependent Python control flow, say).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from skart import ARTClassifier
        >>> X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
        >>> clf = ARTClassifier(max_epochs=3, random_state=0).fit(X, y)
        >>> clf.to_onnx("art.onnx")  # doctest: +SKIP
        >>> import onnxruntime  # doctest: +SKIP
        >>> session = onnxruntime.InferenceSession("art.onnx")  # doctest: +SKIP
        >>> (proba,) = session.run(None, {"X": X.astype(np.float32)})  # doctest: +SKIP
        >>> labels = clf.classes_[
        ...     np.argmax(np.log(proba) + clf.decision_offsets_, axis=1)
        ... ]  # doctest: +SKIP
        """
        check_is_fitted(self, "net_")
        export_onnx(self, path, input_shape=input_shape, opset_version=opset_version)

    def _restore_fitted(self, state, attributes, name):
        """Rebuild the fitted net from a file's state (see :func:`skart.load_fitted`)."""
        vars(self).update(attributes)
        # No training data: the hooks see a state without folds.
        data = FitState.for_loading(
            self.class_counts_,
            state["net"].get("module__n_features", self.n_features_in_),
        )
        self.net_ = self._build_net(data)
        # Built under the lock (its weights come from the file): a load
        # leaves torch's global generator alone.
        self.net_.random_streams = FitGenerators(0, self.net_.device)
        self.net_.initialize()
        modules = state["modules"]
        names = [
            module
            for module in self.net_._modules + self.net_._criteria
            if isinstance(getattr(self.net_, module + "_"), torch.nn.Module)
        ]
        if sorted(names) != sorted(modules):
            raise ValueError(
                f"{name} is a damaged skart model file: it holds the modules "
                f"{sorted(modules)}, but its estimator builds {sorted(names)}."
            )
        for module in names:
            try:
                getattr(self.net_, module + "_").load_state_dict(modules[module])
            except (RuntimeError, TypeError, KeyError) as exc:
                raise ValueError(
                    f"{name} is a damaged skart model file: the weights of its "
                    f"{module} do not fit the network its parameters build."
                ) from exc
        self.net_.history = History(json.loads(state["history"]))
        self._release_fit_data()
        return self

    def _release_fit_data(self):
        """Drop the net's and its callbacks' references to the fit's data.

        The net holds the validation fold (``train_split``), its weights and
        the sampler (the training labels), a method's net may hold more
        (``fit_data_attributes``), and callbacks may hold some too: a fitted
        model must not carry them into pickles or saved files.
        """
        self.net_.release_fit_data()

    @property
    def history_(self):
        """Per-epoch history of the fitted net (``net_.history``)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    # -- predict ------------------------------------------------------------

    def predict_proba(self, X):
        """Class probabilities: the softmax of the network's logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...) or torch Dataset
            Samples, in the form given to ``fit``; a Dataset's items are read
            per batch (inputs, or ``(input, label)`` pairs whose labels are
            ignored), without ``train_transform``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        check_is_fitted(self)
        if is_dataset(X):
            check_dataset(X)
            return self._proba(DatasetFold(X, pairs=is_pair(X[0])))
        X = check_X(self, X, **self._input_checks)
        if sp.issparse(X):
            return self._proba(ArrayDataset(self._to_tensor(X)))
        return self._proba(X)

    def _proba(self, data):
        """Softmax of the network, batch by batch, as float64 rows that sum to 1.

        ``data`` is an :class:`ArrayDataset`, or a dense array, which is
        converted to float32 a block of batches at a time: memory beyond the
        output stays bounded by one block, whatever the size of X.
        """
        net = self.net_
        nonlinearity = net._get_predict_nonlinearity()
        batch_size = net.get_params_for("iterator_valid").get(
            "batch_size", net.batch_size
        )
        n = len(data)
        if isinstance(data, torch.utils.data.Dataset):
            blocks = [(0, data)]
        else:
            # Whole batches per block (the batches are those of one pass over
            # all rows, so the output is bitwise the same), about 8 MiB of float32.
            row_bytes = 4 * int(np.prod(data.shape[1:]))
            per_block = (
                n
                if batch_size <= 0
                else batch_size * max(1, (8 << 20) // max(row_bytes * batch_size, 1))
            )
            blocks = (
                (
                    start,
                    ArrayDataset(
                        torch.from_numpy(
                            np.ascontiguousarray(
                                data[start : start + per_block], dtype=np.float32
                            )
                        )
                    ),
                )
                for start in range(0, n, max(per_block, 1))
            )
        bar = None
        if self.verbose >= 2:
            n_batches = 1 if batch_size <= 0 else -(-n // batch_size)
            bar = tqdm(
                total=n_batches,
                desc=f"{type(self).__name__}.predict_proba",
                leave=False,
            )
        proba = None
        with warnings.catch_warnings():
            # The net only sees tensors; keep skorch quiet about it.
            warnings.simplefilter("ignore", UserWarning)
            for start, dataset in blocks:
                for logits in net.forward_iter(dataset, training=False):
                    p = nonlinearity(logits).cpu().numpy()  # (B, K) float32
                    if proba is None:
                        proba = np.empty((n, p.shape[1]), dtype=np.float64)
                    rows = proba[start : start + len(p)]
                    rows[:] = p
                    # Row by row, so no (n, 1) array of the sums either.
                    rows /= rows.sum(axis=1, keepdims=True)
                    start += len(p)
                    if bar is not None:
                        bar.update()
        if bar is not None:
            bar.close()
        if proba is None:
            proba = np.empty((0, len(self.classes_)))
        return proba

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...) or torch Dataset
            Samples, in the form given to ``fit``; a Dataset's items are read
            per batch (inputs, or ``(input, label)`` pairs whose labels are
            ignored), without ``train_transform``.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        offsets = getattr(self, "decision_offsets_", None)
        if offsets is not None and offsets.any():
            with np.errstate(divide="ignore"):
                proba = np.log(proba) + offsets  # the tuned decision rule
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = (
            self._input_checks.get("accept_sparse", True) is not False
        )
        return tags
