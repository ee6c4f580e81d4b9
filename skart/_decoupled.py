"""DecoupledClassifier: train a network, then re-balance its last layer alone.

Stage 1 is the core's ordinary training; this module holds stage 2 (cRT or
tau-normalisation) and its parameters.
"""

from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import Callback

from ._metrics import class_scores
from ._nn._docs import CORE_PARAMETERS, Substitution
from ._nn._estimator import BaseNetClassifier
from ._nn._random import reset_linear, seeded_global
from ._params import Interval, StrOptions, fit_context
from ._validation import draw_seed

# 0, 0.1, ..., 2.0: tau = 0 is the stage-1 network, tau = 1 divides each
# class's weights by their norm, and larger values over-correct.
DEFAULT_TAU_GRID = tuple(round(0.1 * i, 1) for i in range(21))


class _Stage(Callback):
    """Record in each epoch's history row which stage trained it (1 or 2)."""

    stage = 1

    def on_epoch_begin(self, net, **kwargs):
        net.history.record("stage", self.stage)


@Substitution(CORE_PARAMETERS)
class DecoupledClassifier(BaseNetClassifier):
    """Neural network classifier trained in two stages: representation, then classifier.

    Decoupled training (Kang et al., 2020) first trains the whole network
    with ordinary instance-balanced sampling (stage 1: every row equally
    likely, so the frequent classes dominate), on the view that the features
    learned so are as good as any. Stage 2 then re-balances only the last
    linear layer, the classifier:

    - ``method="crt"`` (classifier re-training): the rest of the network is
      frozen, the last layer is re-initialised and retrained for
      up to ``crt_epochs`` epochs with class-balanced sampling (every class drawn
      with equal probability, rows uniformly, or by ``sample_weight``,
      within it);
    - ``method="tau_norm"``: no training; each class's weight vector ``w_j``
      in the last layer is divided by ``||w_j||**tau`` (the bias is kept),
      which shrinks the large weight norms that frequent classes acquire.
      ``tau`` is chosen on the validation fold to maximise the mean
      per-class ``metric``; ``tau=0`` is the stage-1 network.

    Any :class:`torch.nn.Module` that returns logits works: stage 2 acts on
    the layer named by ``classifier_layer``, by default the last
    :class:`torch.nn.Linear` of the module. The epochs of both stages are
    one history, whose ``stage`` column says which stage ran each.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The network; it must return logits of shape ``(n, n_classes)`` from
        a last linear layer. ``None`` means :class:`MLP`. A class whose
        ``__init__`` takes ``n_features`` or ``n_classes`` gets them from the
        data unless they are set as ``module__n_features`` /
        ``module__n_classes``.
    method : {"crt", "tau_norm"}, default="crt"
        The second stage: classifier re-training or tau-normalisation.
    classifier_layer : str, default=None
        Name (in ``module.named_modules()``, e.g. ``"layers.7"`` or
        ``"head"``) of the :class:`torch.nn.Linear` layer that stage 2
        re-balances; its output must be the ``n_classes`` logits. ``None``
        means the last ``nn.Linear`` in ``named_modules()`` order.
    crt_epochs : int >= 1, default=None
        Maximum number of epochs of class-balanced re-training of the
        classifier (``"crt"``); early stopping (``patience``) usually ends
        stage 2 sooner. ``None`` means ``max_epochs``: the re-initialised
        layer starts from scratch and is given the same budget of optimiser
        steps as the network, since a fixed count of epochs is a fixed count
        of steps only for one data size (Kang et al. retrain briefly on sets
        of 100,000 images and more, where a few epochs are thousands of
        steps; on a thousand rows 10 epochs are some 90 steps, and on Yeast
        the validation loss was still falling steeply after them). See
        docs/benchmarks_decoupled.md for how this default was chosen.
    crt_lr : float, default=None
        Learning rate of stage 2 (``"crt"``), annealed by ``lr_schedule``
        over stage 2's maximum number of epochs. ``None`` means ``lr``.
    tau : float >= 0, default=None
        The exponent of ``"tau_norm"``. ``None`` chooses it from
        ``tau_grid`` on the validation fold (ties go to the smaller tau).
    tau_grid : array-like of float >= 0, default=None
        The values of tau tried when ``tau=None``; ``None`` means 0, 0.1,
        ..., 2.0.
    metric : {"f1", "recall", "precision"} or callable, default="f1"
        Per-class metric on the validation fold: recorded in the history,
        averaged to choose tau, and the target of ``decision="tuned"``. A
        callable is called as ``metric(y_true, y_pred, labels=labels)`` with
        class indices and returns one score in [0, 1] per class.
    validation_fraction : float in (0, 1), default=0.15
        Share of each class held out for the validation fold (early
        stopping, the choice of tau, the tuned decision).
    criterion : torch.nn.Module class or instance, default=None
        Loss on ``(logits, target)`` in both stages. ``None`` means
        cross-entropy. A class whose ``__init__`` takes ``class_counts`` gets
        the training fold's class counts.
    optimizer : torch.optim.Optimizer class, default=torch.optim.AdamW
        Optimiser of both stages (stage 2 starts a fresh one that holds the
        classifier's parameters only).
    lr : float, default=1e-3
        Learning rate of stage 1.
    max_epochs : int, default=100
        Maximum number of epochs of stage 1.
    patience : int or None, default=10
        Early stopping patience in epochs, counted afresh in each stage; each
        stage ends with its best weights restored. ``None`` trains for
        ``max_epochs``, then for stage 2's maximum.
    lr_schedule : {"cosine"} or None, default="cosine"
        Cosine annealing of the learning rate over each stage's epochs.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the sampling, the initial weights of both stages and
        dropout (the fit's own torch generators), so that ``fit`` is
        reproducible on CPU: the same model whether fits run one after
        another, in threads or in processes.
    warm_start : bool, default=False
        If True, a second ``fit`` continues stage 1 from the fitted network
        (tau-normalisation undone first) for ``max_epochs`` more epochs, then
        runs stage 2 again. The data must have the same features and classes.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` is a DataFrame with string column names.
    net_ : skorch.NeuralNetClassifier
        The fitted net (its optimiser is stage 1's).
    history_ : skorch.History
        One row per epoch of both stages: ``stage`` (1 or 2), ``train_loss``,
        ``valid_loss``, ``class_scores``, ``valid_<metric>``.
    classifier_layer_ : str
        Name of the layer stage 2 re-balanced.
    class_counts_ : ndarray of shape (n_classes,)
        Rows per class in the training fold.
    sampling_distribution_ : ndarray of shape (n_classes,)
        Class distribution stage 1 drew from (the training fold's prior).
    tau_ : float or None
        ``"tau_norm"``: the exponent applied (None for ``"crt"``, as are the
        three attributes below).
    tau_grid_ : ndarray of shape (n_taus,) or None
        ``"tau_norm"``: the values tried, sorted (``[tau]`` when ``tau`` is
        set).
    tau_scores_ : ndarray of shape (n_taus,) or None
        ``"tau_norm"``: the mean per-class ``metric`` on the validation
        fold of each value of ``tau_grid_``.
    weight_norms_ : ndarray of shape (n_classes,) or None
        ``"tau_norm"``: the norms ``||w_j||`` of the stage-1 classifier.
    decision_offsets_ : ndarray of shape (n_classes,)
        Offsets added to the log-probabilities before ``predict``'s argmax.
    decision_threshold_ : float
        Two classes only: ``predict`` gives ``classes_[1]`` when its
        probability is at least this.
    n_iter_ : int
        Epochs run in all, both stages.

    See Also
    --------
    ARTClassifier : Re-balances the sampling during the whole training.

    References
    ----------
    .. [1] B. Kang, S. Xie, M. Rohrbach, Z. Yan, A. Gordo, J. Feng and
       Y. Kalantidis, "Decoupling Representation and Classifier for
       Long-Tailed Recognition", ICLR 2020, arXiv:1910.09217.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skart._decoupled import DecoupledClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = DecoupledClassifier(max_epochs=5, crt_epochs=3, random_state=0).fit(X, y)
    >>> clf.history_[:, "stage"]
    [1, 1, 1, 1, 1, 2, 2, 2]
    >>> tau = DecoupledClassifier(method="tau_norm", max_epochs=5, random_state=0)
    >>> float(tau.fit(X, y).tau_) in tau.tau_grid_
    True
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in BaseNetClassifier._parameter_constraints.items()
            if k != "distributed"
        },
        "method": [StrOptions({"crt", "tau_norm"})],
        "classifier_layer": [None, str],
        "crt_epochs": [None, Interval(Integral, 1, None, closed="left")],
        "crt_lr": [None, Interval(Real, 0, None, closed="neither")],
        "tau": [None, Interval(Real, 0, None, closed="left")],
        "tau_grid": [None, "array-like"],
    }

    def __init__(
        self,
        module=None,
        *,
        method="crt",
        classifier_layer=None,
        crt_epochs=None,
        crt_lr=None,
        tau=None,
        tau_grid=None,
        metric="f1",
        validation_fraction=0.15,
        criterion=None,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=100,
        batch_size=128,
        train_transform=None,
        patience=10,
        monitor="loss",
        decision="argmax",
        lr_schedule="cosine",
        device="cpu",
        precision="float32",
        compile=False,
        callbacks=None,
        verbose=0,
        random_state=None,
        class_weight=None,
        warm_start=False,
        checkpoint=None,
        **kwargs,
    ):
        self.module = module
        self.method = method
        self.classifier_layer = classifier_layer
        self.crt_epochs = crt_epochs
        self.crt_lr = crt_lr
        self.tau = tau
        self.tau_grid = tau_grid
        self.metric = metric
        self.validation_fraction = validation_fraction
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.train_transform = train_transform
        self.patience = patience
        self.monitor = monitor
        self.decision = decision
        self.lr_schedule = lr_schedule
        self.device = device
        self.precision = precision
        self.compile = compile
        self.callbacks = callbacks
        self.verbose = verbose
        self.random_state = random_state
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        vars(self).update(kwargs)

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_val=None, y_val=None, sample_weight=None):
        """Train the network (stage 1), then re-balance its classifier (stage 2).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...) or torch Dataset
            Training data: a 2-d array or DataFrame, a CSR matrix (densified
            per batch), an n-d array for a custom module, or a map-style
            ``torch.utils.data.Dataset`` (images or text on disk, say), whose
            items are inputs or ``(input, label)`` pairs and are read per batch
            by a ``DataLoader``, never all at once.
        y : array-like of shape (n_samples,) or None
            Class labels of any type ``LabelEncoder`` accepts. With a Dataset,
            ``None`` reads them from its ``targets`` attribute (torchvision's
            convention) without loading any input.
        X_val : {array-like, sparse matrix} of shape (n_val, ...), default=None
            A validation set of your own. ``None`` holds out
            ``validation_fraction`` of each class of ``X``.
        y_val : array-like of shape (n_val,), default=None
            Labels of ``X_val``, all among the labels of ``y``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights. Stage 1 draws rows in proportion to
            them; stage 2 (``"crt"``) gives every class of positive weight
            the same probability and draws rows within a class by weight.
            The validation fold's scores and loss are weighted.

        Returns
        -------
        self : DecoupledClassifier
            The fitted classifier.
        """
        if self.tau_grid is not None:
            grid = np.asarray(self.tau_grid, dtype=np.float64)
            if grid.ndim != 1 or grid.size == 0 or not np.all(grid >= 0):
                raise ValueError(
                    "tau_grid must be a non-empty 1-d sequence of finite values "
                    f">= 0, e.g. [0, 0.5, 1]; got {self.tau_grid!r}."
                )
        return self._fit(X, y, X_val=X_val, y_val=y_val, sample_weight=sample_weight)

    # -- hooks --------------------------------------------------------------

    def _method_callbacks(self, state):
        return [("stage", _Stage())]

    def _train(self, state):
        net = self.net_
        if not net.initialized_:
            net.initialize()
            net.warm_start = True  # stage 1 trains this module, not a new one
        name, layer = self._classifier(net.module_, len(state.class_counts))
        warm = state.warm or {}
        if warm.get("weight_norms_") is not None:
            with torch.no_grad():  # stage 1 goes on from the weights before tau-norm
                scale = torch.as_tensor(warm["weight_norms_"]) ** warm["tau_"]  # (K,)
                layer.weight.mul_(scale.to(layer.weight)[:, None])
        dict(net.callbacks_)["stage"].stage = 1
        self._train_net(state)
        fitted = dict.fromkeys(("tau_", "tau_grid_", "tau_scores_", "weight_norms_"))
        if net.interrupted:
            pass  # Ctrl-C in stage 1: the stage-1 network, as it stopped
        elif self.method == "crt":
            self._retrain_classifier(state, layer)
        else:
            fitted.update(self._normalise(state, layer))
        # Every attribute is set, None where the method has none: no stale
        # tau_ of an earlier fit survives a refit with the other method.
        return {"classifier_layer_": name, **fitted}

    def _fitted_attributes(self, state, trained):
        return trained

    # -- stage 2 ------------------------------------------------------------

    def _classifier(self, module, n_classes):
        """The name and the ``nn.Linear`` layer stage 2 acts on."""
        layers = dict(module.named_modules())
        name = self.classifier_layer
        if name is None:
            linear = [k for k, m in layers.items() if isinstance(m, torch.nn.Linear)]
            if not linear:
                raise ValueError(
                    f"{type(module).__name__} has no torch.nn.Linear layer for "
                    "stage 2 to re-balance. DecoupledClassifier needs a module "
                    "whose logits come from a last nn.Linear; name it with "
                    "classifier_layer=..."
                )
            name = linear[-1]
        elif name not in layers:
            raise ValueError(
                f"classifier_layer={name!r} is not a submodule of "
                f"{type(module).__name__}; its submodules are "
                f"{[k for k in layers if k]}."
            )
        layer = layers[name]
        if not isinstance(layer, torch.nn.Linear):
            raise ValueError(
                f"classifier_layer={name!r} is a {type(layer).__name__}, not a "
                "torch.nn.Linear: name the linear layer that returns the logits."
            )
        if layer.out_features != n_classes:
            raise ValueError(
                f"The classifier layer {name!r} has {layer.out_features} outputs "
                f"but there are {n_classes} classes: name the layer that returns "
                "the logits with classifier_layer=..."
            )
        return name, layer

    def _retrain_classifier(self, state, layer):
        """cRT: freeze all but ``layer``, re-initialise it, retrain it class-balanced."""
        net = self.net_
        module = net.module_
        trainable = {p: p.requires_grad for p in module.parameters()}
        classifier = {id(p) for p in layer.parameters()}
        for p in module.parameters():
            if id(p) not in classifier:
                p.requires_grad_(False)
                p.grad = None
        if type(layer).reset_parameters is torch.nn.Linear.reset_parameters:
            # From the fit's generator: the same in threads as sequentially.
            reset_linear(layer, state.generators.cpu)
        else:  # a Linear of the user's own: its own rule, under the lock
            with seeded_global(draw_seed(state.rng), layer.weight.device):
                layer.reset_parameters()
        sampler = state.class_sampler(seed=draw_seed(state.rng))
        sampler.set_distribution((sampler.class_weights > 0).astype(np.float64))
        net.iterator_train__sampler = sampler
        # A fresh optimiser for the classifier alone; stage 1's is put back
        # afterwards, so that a warm start continues the whole network.
        stage1_optimizer = net.optimizer_
        args, kwargs = net.get_params_for_optimizer(
            "optimizer",
            [(k, p) for k, p in module.named_parameters() if p.requires_grad],
        )
        kwargs["lr"] = self.lr if self.crt_lr is None else self.crt_lr
        net.optimizer_ = net.optimizer(*args, **kwargs)
        callbacks = dict(net.callbacks_)
        epochs = self.max_epochs if self.crt_epochs is None else self.crt_epochs
        if "lr_scheduler" in callbacks:
            callbacks["lr_scheduler"].T_max = epochs
        callbacks["stage"].stage = 2
        # partial_fit continues the history; early stopping starts afresh
        # (skorch calls on_train_begin) and restores stage 2's best epoch.
        net.partial_fit(state.train_ds, None, epochs=epochs)
        net.optimizer_ = stage1_optimizer
        for p, flag in trainable.items():
            p.requires_grad_(flag)

    def _normalise(self, state, layer):
        """tau-norm: rescale the rows of ``layer.weight``; choose tau on validation."""
        if self.tau is not None:
            grid = np.array([float(self.tau)])
        else:
            grid = DEFAULT_TAU_GRID if self.tau_grid is None else self.tau_grid
            grid = np.unique(np.asarray(grid, dtype=np.float64))  # sorted
        weight = layer.weight.detach().clone()  # (K, D)
        norms = torch.linalg.vector_norm(weight.double(), dim=1)  # (K,)
        divisor = norms.clamp_min(torch.finfo(torch.float64).tiny)[:, None]  # (K, 1)
        y_valid = torch.from_numpy(state.y_valid)
        w_valid = None if state.valid_weights is None else state.valid_weights.cpu()
        scores = np.empty(len(grid))
        with torch.no_grad():
            for i, tau in enumerate(grid):
                # tau = 0 divides by 1: the stage-1 weights, bitwise.
                layer.weight.copy_(weight.double() / divisor**tau)
                pred = torch.from_numpy(self._proba(state.valid_ds).argmax(axis=1))
                scores[i] = np.nanmean(
                    class_scores(
                        y_valid, pred, len(state.class_counts), self.metric, w_valid
                    )
                )
            best = int(np.argmax(scores))  # the first maximum: the smallest tau
            layer.weight.copy_(weight.double() / divisor ** grid[best])
        return {
            "tau_": float(grid[best]),
            "tau_grid_": grid,
            "tau_scores_": scores,
            "weight_norms_": norms.numpy(),
        }
