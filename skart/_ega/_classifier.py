"""EGAClassifier: minority points learned by explicit gradients (arXiv:2202.10550).

Phase 1 trains the network on the training fold. The synthetic set then
starts as copies of the rows of every class smaller than the largest. Phase 2
runs, for every minibatch, one look-ahead step of the network on the real
and synthetic rows, scores the adapted network on a validation batch, moves
the synthetic points down the gradient of that validation loss (a
hypergradient through the gradient step) and takes the look-ahead step for
real. The shared machinery is :mod:`skart._nn`; this module holds the meta
step, its net and the estimator's parameters.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import torch

from .._art._resampling import ART_PARAMETERS, ARTResampling
from .._nn._callbacks import ProbaScoring, is_proba_monitor
from .._nn._data import ArrayDataset
from .._nn._docs import CORE_PARAMETERS, Substitution
from .._nn._estimator import BaseNetClassifier
from .._params import Interval, fit_context
from ._meta import IndexStream, MetaState, WeightedIndexStream
from ._net import EGAMonitor, EGANet


@Substitution(CORE_PARAMETERS, ART_PARAMETERS)
class EGAClassifier(ARTResampling, BaseNetClassifier):
    """Neural network classifier with minority points learned by explicit gradients (EGA).

    EGA [1]_ augments the classes smaller than the largest with synthetic
    points and learns where to put them. Phase 1 trains the network on the
    training fold. The synthetic set then starts as one copy of the rows of
    every class smaller than the largest (optionally only those the phase-1
    network scores at most ``confidence``). Phase 2, for every minibatch
    ``X`` of real rows, ``Z`` of synthetic points and ``X_val`` of
    validation rows:

    1. ``g = grad_theta L(C_theta([Z; X]))``, the inner loss over the union;
    2. ``theta' = theta - eta1 * g``, a look-ahead step, functional in the
       parameters (:func:`torch.func.functional_call`, any module);
    3. ``Z <- Z - eta2 * dL(C_theta'(X_val)) / dZ``, a hypergradient step of
       the points on the validation loss of the adapted network;
    4. ``theta <- theta'``, the step with the same ``g``.

    The gradient uses the validation *loss*; average precision on the
    validation fold only selects the epoch whose weights are kept, in each
    phase. With ``eta2=0`` the points never move and phase 2 is plain SGD on
    the data plus one copy of the minority.

    The paper is binary; here every class smaller than the largest gets its
    own points with fixed labels, which is an extension beyond it. Dense
    inputs only: the points move in feature space.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The network; it must return logits of shape ``(n, n_classes)``.
        ``None`` means :class:`MLP` with the paper's ``hidden_units=(128,
        16)`` and ``dropout=0`` (both can be routed as ``module__*``).
    eta1 : float > 0, default=1e-2
        Step size of the network in phase 2 (the look-ahead and the step
        taken). Phase 2 always steps by plain SGD with ``eta1``.
    eta2 : float >= 0, default=10.0
        Step size of the synthetic points (feature units: scale the features,
        e.g. to [0, 1] as in the paper). ``0`` keeps them fixed.
    confidence : float in [0, 1], default=1.0
        Only the rows whose phase-1 probability of their own class is at most
        ``confidence`` seed points (the paper's ``c``; ``1`` takes all rows).
    synthetic_ratio : float > 0, default=1.0
        Synthetic points per seeding row: ``1`` is one copy of each (the
        paper), ``2`` two copies, ``0.5`` a random half.
    batch_size_synthetic : int or None, default=None
        Synthetic points per step. ``None`` draws them in proportion to the
        real rows, so that one epoch sees each point once, as training on the
        data plus the copies would.
    batch_size_valid : int, default=256
        Validation rows per step for the outer loss.
    pretrain_epochs : int >= 0, default=100
        Epochs of phase 1; ``0`` skips it (phase 2 then starts from the
        initial network, or in a warm start from the fitted one).
    max_epochs : int >= 0, default=100
        Epochs of phase 2; ``0`` stops after phase 1.
    art : bool, default=False
        Draw the real batches of both phases with ART's sampler
        (:class:`ClassDistributionSampler`, updated from the validation fold).
    validation_fraction : float in (0, 1), default=0.25
        Share of each class held out for the validation fold, which drives
        the points' gradient and the epoch selection (the paper's 60/20 of
        the 80 % given to ``fit``).
    criterion : torch.nn.Module class or instance, default=None
        Loss on ``(logits, target)`` for both phases, inner and outer; a mean
        over rows. ``None`` means cross-entropy.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        Optimiser of phase 1; Adam and AdamW get the paper's ``betas=(0.5,
        0.999)`` unless ``optimizer__betas`` is set.
    lr : float, default=1e-3
        Learning rate of phase 1.
    batch_size : int, default=128
        Real rows per step.
    patience : int or None, default=None
        Early stopping patience on what ``monitor`` watches, in each phase
        (``None``: no early stopping). The weights kept are those of the
        best validation AP either way, or, when ``monitor`` names a
        probability score (``"roc_auc"``, a scorer, a callable), of the best
        epoch by it.
    lr_schedule : {"cosine"} or None, default=None
        Cosine annealing of phase 1's learning rate over ``pretrain_epochs``.
    warm_start : bool, default=False
        If True, a second ``fit`` continues the fitted network (its weights,
        phase 1's optimiser state and the history) and the learned points:
        phase 1 runs ``pretrain_epochs`` more epochs (``0`` skips it), then
        phase 2 moves the points of ``synthetic_X_`` (with their labels,
        weights and starting copies) for ``max_epochs`` more epochs. The
        data must have the same features and classes; the validation fold is
        drawn again. ``best_epoch_`` counts rows of the whole history.

    Attributes
    ----------
    decision_offsets_ : ndarray of shape (n_classes,)
        Offsets added to the log-probabilities before ``predict``'s argmax
        (zeros with ``decision="argmax"``).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` is a DataFrame with string column names.
    net_ : skorch.NeuralNetClassifier
        The fitted net, with the weights of ``best_epoch_``.
    history_ : skorch.History
        One row per epoch of both phases: ``phase``, ``train_loss`` (the
        inner loss in phase 2), ``valid_loss``, ``valid_ap``, ART's
        ``class_scores``, and in phase 2 ``synthetic_distance`` (the mean
        distance of the points from their starting copies).
    best_epoch_ : int
        The epoch (1-based row of ``history_``) whose weights were kept.
    synthetic_X_ : ndarray of shape (n_synthetic, ...)
        The learned points, as they were at ``best_epoch_``.
    synthetic_y_ : ndarray of shape (n_synthetic,)
        Their labels (from ``classes_``).
    synthetic_init_X_ : ndarray of shape (n_synthetic, ...)
        Their starting copies.
    synthetic_sample_weight_ : ndarray of shape (n_synthetic,)
        The weight of each point: that of the row it was copied from, in
        units of the training fold's mean weight (ones in an unweighted fit).
    class_counts_ : ndarray of shape (n_classes,)
        Rows per class in the training fold.
    sampling_distribution_ : ndarray of shape (n_classes,)
        ART's class distribution at the end (the prior when ``art=False``).
    n_iter_ : int
        Epochs run, both phases.

    See Also
    --------
    ARTClassifier : The same network trained with ART alone.

    Notes
    -----
    During phase 2, ``net_.meta.Z`` holds the points being learned (a
    tensor), so a skorch callback can follow their paths (see the two-moons
    example of the gallery).

    Each phase-2 step costs about four plain steps (2.8 to 4.8 times a
    plain step of the default network, ``benchmarks/ega/bench_step.py``): a
    forward and a backward with its graph kept, a forward of the look-ahead
    and a double backward. The hypergradient of a point is diluted by the batch (the loss
    is a mean over real and synthetic rows), so ``eta2`` depends on
    ``batch_size`` and on the feature scale: with features in [0, 1] the
    paper's ``eta2=10`` moves the points very little.

    With ``sample_weight``, the real rows of both phases are drawn in
    proportion to their weights (as in :class:`ARTClassifier`); a row of
    weight 0 is never drawn and seeds no point. A synthetic point carries the
    weight of the row it was copied from and is drawn into the phase-2
    batches in proportion to it (with replacement), so that a row of integer
    weight ``k`` yields, in distribution, what ``k`` copies of it would; the
    minority classes are those whose total weight is below the largest.
    The validation rows' weights scale their losses in the outer loss that
    moves the points, in ``valid_loss`` (early stopping) and in the
    validation AP and per-class scores.

    References
    ----------
    .. [1] Yasinnik, Salhov, Lindenbaum, Averbuch. Imbalanced Classification
       via Explicit Gradient Learning From Augmented Data, arXiv:2202.10550.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skart import EGAClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = EGAClassifier(pretrain_epochs=3, max_epochs=3, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> clf.synthetic_X_.shape == clf.synthetic_init_X_.shape
    True
    """

    _parameter_constraints: dict = {
        **BaseNetClassifier._parameter_constraints,
        **ARTResampling._art_constraints,
        "eta1": [Interval(Real, 0, None, closed="neither")],
        "eta2": [Interval(Real, 0, None, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="both")],
        "synthetic_ratio": [Interval(Real, 0, None, closed="neither")],
        "batch_size_synthetic": [None, Interval(Integral, 1, None, closed="left")],
        "batch_size_valid": [Interval(Integral, 1, None, closed="left")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    _net_class = EGANet
    _keeps_best_epoch = True  # by validation AP, within each phase (EGAMonitor)
    _input_checks = {"accept_sparse": False}
    _synthesises_features = True

    def __init__(
        self,
        module=None,
        *,
        eta1=1e-2,
        eta2=10.0,
        confidence=1.0,
        synthetic_ratio=1.0,
        batch_size_synthetic=None,
        batch_size_valid=256,
        pretrain_epochs=100,
        max_epochs=100,
        art=False,
        c=0.5,
        bf=1,
        metric="f1",
        smooth=1.0,
        validation_fraction=0.25,
        criterion=None,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=128,
        train_transform=None,
        patience=None,
        monitor="loss",
        lr_schedule=None,
        device="cpu",
        precision="float32",
        compile=False,
        callbacks=None,
        verbose=0,
        random_state=None,
        class_weight=None,
        decision="argmax",
        warm_start=False,
        checkpoint=None,
        **kwargs,
    ):
        self.module = module
        self.eta1 = eta1
        self.eta2 = eta2
        self.confidence = confidence
        self.synthetic_ratio = synthetic_ratio
        self.batch_size_synthetic = batch_size_synthetic
        self.batch_size_valid = batch_size_valid
        self.pretrain_epochs = pretrain_epochs
        self.max_epochs = max_epochs
        self.art = art
        self.c = c
        self.bf = bf
        self.metric = metric
        self.smooth = smooth
        self.validation_fraction = validation_fraction
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.train_transform = train_transform
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.device = device
        self.precision = precision
        self.compile = compile
        self.callbacks = callbacks
        self.verbose = verbose
        self.random_state = random_state
        self.class_weight = class_weight
        self.decision = decision
        self.monitor = monitor
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        vars(self).update(kwargs)

    # -- hooks --------------------------------------------------------------

    def _net_kwargs(self, data):
        # The paper's network and optimiser, unless routed otherwise.
        kwargs = {}
        if self.module is None:
            kwargs.update(module__hidden_units=(128, 16), module__dropout=0.0)
        if self.optimizer in (torch.optim.Adam, torch.optim.AdamW):
            kwargs["optimizer__betas"] = (0.5, 0.999)
        return kwargs

    def _method_callbacks(self, data):
        counts = data.class_counts
        # Binary: AP of the smaller class; multi-class: macro one-vs-rest AP.
        positive = 0 if counts[0] < counts[-1] else len(counts) - 1
        best = {}
        if is_proba_monitor(self.monitor):
            # The best epoch of each phase is then the best by the monitor.
            scoring = ProbaScoring(self.monitor)
            best = {"monitor": scoring.key, "lower_is_better": scoring.lower_is_better}
        return [("ega", EGAMonitor(positive if len(counts) == 2 else None, **best))]

    def _seed_rows(self, data):
        """Classes that get synthetic points, each checked first.

        A class is a minority when its size (its total sample weight in a
        weighted fit, as repeated rows would count) is below the largest.
        """
        if data.w_train is None:
            sizes = counts = data.class_counts
        else:
            n_classes = len(data.class_counts)
            sizes = np.bincount(data.y_train, data.w_train, minlength=n_classes)
            counts = np.bincount(data.y_train[data.w_train > 0], minlength=n_classes)
        # A class whose rows all weigh 0 is absent, as if they were removed.
        minority = np.flatnonzero((sizes < sizes.max()) & (sizes > 0))
        for k in minority:
            if round(self.synthetic_ratio * counts[k]) < 1:
                raise ValueError(
                    f"Class {self.classes_[k]!r} has {counts[k]} training rows, too "
                    f"small to seed points with synthetic_ratio={self.synthetic_ratio}"
                    f" (round({self.synthetic_ratio} * {counts[k]}) = 0). Raise "
                    f"synthetic_ratio to at least {0.5 / counts[k]:.3g} or give the "
                    "class more rows."
                )
        return minority

    def _synthetic_init(self, data, minority):
        """Starting points: copies of the seeding rows (after phase 1)."""
        seeds = (
            data.y_train
            if data.w_train is None
            else (
                np.where(data.w_train > 0, data.y_train, -1)  # weight 0: no seed
            )
        )
        rows = [np.flatnonzero(seeds == k) for k in minority]
        if self.confidence < 1 and minority.size:
            cand = np.concatenate(rows)
            proba = self.net_.predict_proba(
                ArrayDataset(self._to_tensor(data.X_train[cand]))
            )
            own = proba[np.arange(len(cand)), data.y_train[cand]]
            keep = set(cand[own <= self.confidence].tolist())
            rows = [np.array([i for i in r if i in keep], dtype=np.int64) for r in rows]
        chosen = []
        for r in rows:
            n = int(round(self.synthetic_ratio * len(r)))
            if n <= len(r):
                chosen.append(np.sort(data.rng.choice(r, n, replace=False)))
            else:
                chosen.append(np.resize(r, n))  # whole copies, cycling
        idx = np.concatenate([np.zeros(0, dtype=np.int64), *chosen])
        return idx

    def _train(self, data):
        minority = self._seed_rows(data)  # fail before any training
        net = self.net_
        previous = self._carried_points(data)  # a warm start's
        if self.lr_schedule == "cosine":
            # Phase 1's optimiser anneals over phase 1 (phase 2 steps by SGD).
            net.set_params(callbacks__lr_scheduler__T_max=max(self.pretrain_epochs, 1))
        best_epoch = data.warm.get("best_epoch_") if previous else None
        if self.pretrain_epochs > 0:
            # The monitor restores phase 1's best epoch when it ends.
            self._train_net(data, epochs=self.pretrain_epochs)
            # (None when a resumed fit skipped phase 1: no monitor ran.)
            best_epoch = getattr(dict(net.callbacks_)["ega"], "best_epoch_", None)
        elif not net.initialized_:
            net.initialize()  # phase 2 from the initial network
        monitor = dict(net.callbacks_)["ega"]
        device = torch.device(self.device)
        init_rows = None
        if previous is not None:
            # A warm start goes on with the points it learned.
            Z, y_z, Z_init, w_z, Z_start = previous
        else:
            idx = self._synthetic_init(data, minority)
            if idx.size == 0:
                warnings.warn(
                    "EGAClassifier has no synthetic points to learn: "
                    + (
                        "no class is smaller than the largest"
                        if minority.size == 0
                        else f"confidence={self.confidence} selects no row"
                    )
                    + "; phase 2 is plain SGD with eta1 on the real rows.",
                    UserWarning,
                    stacklevel=4,
                )
            rows = torch.from_numpy(idx).to(device)
            Z = data.train_ds.X.index_select(0, rows)  # a new tensor: no clone
            y_z = data.train_ds.y.index_select(0, rows).long()
            # The starting points are these rows of the training fold: phase 2
            # reads them from there, and they are copied out once it is over
            # (not held twice beside the points being learned).
            Z_init = Z_start = None
            init_rows = (data.train_ds.X, rows)
            # A point carries the weight of the row it was copied from, in
            # units of the mean training weight.
            w_z = (
                None
                if data.w_train is None
                else data.w_train[idx] / data.w_train.mean()
            )
        Z_best = Z  # phase 2 not run: the points as they start
        if self.max_epochs > 0:
            net.meta = self._meta_state(data, Z, y_z, Z_init, w_z, init_rows)
            try:
                net.partial_fit(data.train_ds, None, epochs=self.max_epochs)
            finally:
                net.meta = None
            if monitor.best_Z_ is not None:
                # The monitor restored phase 2's best epoch's weights.
                best_epoch = monitor.best_epoch_
                Z_best = monitor.best_Z_
            else:
                # No epoch of phase 2 ended (interrupted): the points as they
                # started, read again rather than cloned for the whole fit.
                Z_best = (
                    torch.as_tensor(Z_start, device=device).clone()
                    if Z_start is not None
                    else data.train_ds.X.index_select(0, init_rows[1])
                )
        del Z  # the points being learned go before their start is copied out
        monitor.reset()  # no weights or points in the pickle
        return {
            "best_epoch_": best_epoch if best_epoch is not None else len(net.history),
            "synthetic_X_": Z_best.cpu().numpy(),
            "synthetic_init_X_": (
                Z_init
                if Z_init is not None
                else np.asarray(data.X_train[idx], dtype=np.float32)
            ),
            "synthetic_y_": self.classes_[y_z.cpu().numpy()],
            "synthetic_sample_weight_": (
                np.ones(len(y_z)) if w_z is None else np.asarray(w_z, dtype=np.float64)
            ),
        }

    def _fitted_attributes(self, state, trained):
        return trained

    def _carried_points(self, state):
        """A warm start's points, as the fit being continued left them, or None."""
        warm = state.warm
        if warm is None or warm.get("synthetic_X_") is None:
            return None
        device = torch.device(self.device)
        w = warm.get("synthetic_sample_weight_")
        if w is not None and (len(w) == 0 or np.all(w == w[0])):
            w = None
        return (
            torch.as_tensor(warm["synthetic_X_"], device=device).clone(),
            torch.as_tensor(
                np.searchsorted(self.classes_, warm["synthetic_y_"]), device=device
            ),
            warm["synthetic_init_X_"],
            w,
            warm["synthetic_X_"],  # where the points start, if phase 2 ends no epoch
        )

    def _meta_state(self, data, Z, y_z, Z_init, w_z, init_rows=None):
        """Phase 2's points and batch streams.

        ``Z_init`` holds the starting points, or is None and ``init_rows`` is
        ``(X, rows)``: they are those rows of the training fold.
        """
        device = torch.device(self.device)
        n_z = len(y_z)
        n_train = len(data.y_train)
        n_batches = -(-n_train // self.batch_size)
        if w_z is None:
            n_eff = -(-n_z // n_batches)
        else:
            # w_z is in rows (a point of weight 1 counts as a row of the mean
            # training weight): an epoch draws as many points as that many
            # repeated copies would give.
            n_eff = int(np.ceil(w_z.sum() / n_batches))
        b_z = self.batch_size_synthetic or max(1, n_eff)
        if w_z is None or n_z == 0:
            synthetic = IndexStream(
                max(n_z, 1), min(b_z, max(n_z, 1)), data.seed, device
            )
        else:
            synthetic = WeightedIndexStream(w_z, b_z, data.seed, device)
        n_valid = len(data.y_valid)
        # Validation rows come uniformly (each once per pass) and their
        # weights scale their losses.
        valid_stream = IndexStream(
            n_valid, min(self.batch_size_valid, n_valid), data.seed + 1, device
        )
        valid_weights = None
        if data.valid_weights is not None:
            w = data.valid_weights.float()
            valid_weights = w / w.mean()
        return MetaState(
            Z,
            y_z,
            data.valid_ds,
            eta1=self.eta1,
            eta2=self.eta2,
            synthetic_stream=synthetic,
            valid_stream=valid_stream,
            Z_init=None if Z_init is None else torch.as_tensor(Z_init, device=device),
            valid_weights=valid_weights,
            init_rows=init_rows,
        )

    def _checkpoint_state(self, data):
        # Phase 2's points and batch streams (phase 1 has no state of its own).
        meta = getattr(self.net_, "meta", None)
        if meta is None:
            return {}
        rows = None if meta.init_rows is None else meta.init_rows[1]
        return {
            "Z": meta.Z,
            "y_z": meta.y_z,
            "Z_init": meta._Z_init,
            "init_rows": rows,
            "streams": [
                _stream_state(meta.synthetic_stream),
                _stream_state(meta.valid_stream),
            ],
        }

    def _restore_checkpoint(self, data, saved):
        meta = getattr(self.net_, "meta", None)
        if meta is None or not saved:
            return
        # The code between the phases ran again on a network that skipped
        # phase 1: its points and streams are replaced by the saved ones.
        device = torch.device(self.device)
        meta.Z = saved["Z"].to(device)
        meta.y_z = saved["y_z"].to(device)
        meta._Z_init = None if saved["Z_init"] is None else saved["Z_init"].to(device)
        meta.init_rows = (
            None
            if saved["init_rows"] is None
            else (data.train_ds.X, saved["init_rows"].to(device))
        )
        meta.synthetic_stream, meta.valid_stream = (
            _restore_stream(stream, device) for stream in saved["streams"]
        )

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_val=None, y_val=None, sample_weight=None):
        """Train the network in two phases and learn the synthetic points.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset
            Training data: a dense 2-d array or DataFrame, or an n-d array for
            a custom module. Sparse matrices are refused. A
            ``torch.utils.data.Dataset`` whose inputs are feature vectors
            (1-d) is read into an array, since new vectors are synthesised
            between them; other Datasets are refused (embed them first).
        y : array-like of shape (n_samples,) or None
            Class labels of any type ``LabelEncoder`` accepts. With a Dataset,
            ``None`` reads them from its ``targets`` attribute.
        X_val : array-like of shape (n_val, ...), default=None
            A validation set of your own for the points' gradient and the
            epoch selection. ``None`` holds out ``validation_fraction`` of
            each class of ``X``.
        y_val : array-like of shape (n_val,), default=None
            Labels of ``X_val``, all among the labels of ``y``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows of ``X``: rows are drawn in
            proportion to them, a synthetic point carries the weight of its
            row, and the validation fold's losses and scores are weighted
            (see the Notes). A weight of 0 acts as removing the row, an
            integer weight (statistically) as repeating it, and equal weights
            give the same model as none. ``X_val`` is scored unweighted.

        Returns
        -------
        self : EGAClassifier
            The fitted classifier.
        """
        return self._fit(X, y, X_val=X_val, y_val=y_val, sample_weight=sample_weight)


def _stream_state(stream):
    """An index stream as tensors and numbers (for a checkpoint)."""
    state = {
        "generator": stream.generator.get_state(),
        "batch_size": stream.batch_size,
    }
    if isinstance(stream, WeightedIndexStream):
        state["weights"] = stream.weights
    else:
        state["n"] = stream.n
        state["buffer"] = stream._buffer
    return state


def _restore_stream(state, device):
    if "weights" in state:
        stream = WeightedIndexStream(state["weights"], state["batch_size"], 0, device)
    else:
        stream = IndexStream(state["n"], state["batch_size"], 0, device)
        stream._buffer = state["buffer"]
    stream.generator.set_state(state["generator"])
    return stream
