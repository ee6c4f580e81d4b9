"""AutoSMOTEClassifier: oversampling decisions learned end to end with a classifier.

AutoSMOTE (arXiv 2502.06878, "Deep Learning Meets Oversampling") makes three
discrete decisions per minority row: whether it seeds a synthetic row, how
many of its nearest same-class neighbours take part (1 to ``k_max``), and
which aggregation turns them into one point. Small networks give the logits,
straight-through Gumbel-softmax makes the choices differentiable, and the
decision networks train with the classifier on one loss. Only a summary of
the paper is public, so every step it leaves open is completed here by a
choice of ours, named as such in :class:`AutoSMOTEClassifier`'s docstring.

The network machinery (routed parameters, input checks, split, seeding,
device, history, prediction) is :mod:`skart._nn`'s; this module holds the
decision networks, the synthetic-row construction and the training step.
"""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy

from .._art._resampling import ART_PARAMETERS, ARTResampling
from .._nn._docs import CORE_PARAMETERS, Substitution
from .._nn._estimator import BaseNetClassifier
from .._params import Interval, StrOptions, fit_context
from ._decision_nets import DecisionNets, decision_distributions
from ._net import AutoSMOTENet, DecisionMonitor, SeedPool, temperature_schedule
from ._synthesis import AGGREGATIONS, class_neighbors


@Substitution(CORE_PARAMETERS, ART_PARAMETERS)
class AutoSMOTEClassifier(ARTResampling, BaseNetClassifier):
    """Neural network classifier trained with oversampling decisions learned end to end.

    AutoSMOTE [1]_ makes three discrete decisions for each row of a class to
    oversample: whether it seeds a synthetic row (*participation*), how many
    of its nearest neighbours of the same class take part (*k*, 1 to
    ``k_max``), and how they are combined (*aggregation*: SMOTE's linear
    interpolation, element-wise min, max, sum, average, or a learned
    weighted average). Small networks give the logits of each decision,
    straight-through Gumbel-softmax draws them, and the synthetic rows join
    every minibatch of the classifier. The decision networks and the
    classifier (an :class:`MLP` by default) are trained together, in the
    same steps of one optimiser. Prediction uses the classifier alone.

    ``variant="self"`` decides per row; ``variant="cohort"`` assigns each row
    to one of ``n_cohorts`` learned cohorts that share their decisions.

    The paper's public summary fixes the decisions, their ranges, the
    variants, Gumbel-softmax, joint training with Adam at ``lr=0.05``,
    cross-entropy and 200 epochs. **Everything else is our completion**,
    including the default objective of the decision networks and the
    default training, which depart from the paper's on evidence (see *Loss*
    and *Training*):

    * *Gumbel-softmax*: straight-through (the forward pass uses one choice,
      the gradient flows through the soft sample); constant temperature 1 by
      default, optionally annealed (``temperature_schedule``).
    * *Decision networks*: input ``[x, onehot(class)]``, one hidden layer of
      32 ReLU units. Cohort variant: an MLP draws the cohort; each cohort has
      one learned logit vector per decision.
    * *Aggregations* over ``S_k``, the seed with its ``k`` nearest
      neighbours: ``linear`` is SMOTE (a random neighbour among the ``k``, a
      uniform step); ``min``, ``max``, ``sum``, ``average`` are element-wise
      over ``S_k`` (``sum`` as named: it leaves the data's range, so the
      features should be standardised, and ``aggregations`` can drop it);
      ``weighted`` is a convex combination of ``S_k`` with learned weights.
    * *Budget*: ``sampling_strategy`` in imbalanced-learn's sense, applied to
      the training fold, sets the synthetic rows per class and epoch
      ("auto": up to the majority's count); they are spread over the
      minibatches in proportion to their size, seeds drawn uniformly with
      replacement within the class.
    * *Loss*: the classifier minimises
      ``[sum_real CE + sum_synthetic o_i CE] / (B + sum o_i)`` with ``o_i``
      the 0/1 participation draw. The decision networks, by default
      (``objective="bilevel"``), minimise the class-balanced cross-entropy
      on a validation minibatch of the classifier after one look-ahead step
      on that loss. The paper's literal joint objective
      (``objective="joint"``: the decision networks minimise the training
      loss too) drove them, in our measurements, to far-away ``sum`` points
      that are trivial to classify and once to no participation; the
      bilevel objective ranked first of eight methods over seven data sets
      in our first study, on earlier code (``docs/benchmarks_autosmote.md``
      has it and the later 25-set test, where the gaps to SMOTE are
      within the noise). ``min_participation`` forces the
      seeds most likely to take part in up to that share, and the history
      records participation and entropies. ``anchor`` adds a pull towards
      SMOTE's decisions to the decision networks' loss (see the parameter).
    * *Neighbours*: computed once, in input space, among the training rows
      of the same class (scikit-learn's ``NearestNeighbors``). A class of
      ``n_c <= k_max`` rows has ``n_c - 1`` neighbours: the larger ``k`` are
      masked (never drawn). A class of one row has none: its synthetic rows
      are copies of it (random oversampling), with a warning.
    * *Training*: the paper trains 200 epochs with Adam at ``lr=0.05``. The
      defaults here are skart's shared ones, :class:`ARTClassifier`'s (AdamW
      at ``lr=1e-3``, a cosine schedule, at most 100 epochs, early stopping
      with patience 10 on the validation fold of skart's shared machinery),
      for the classifier and the decision networks: at the defaults the
      paper's training put AutoSMOTE below a SMOTE pipeline, and these
      scored best of three trainings on validation folds (issue 23,
      ``docs/benchmarks_autosmote.md``). At this rate the decision
      distributions stay close to their initial, almost uniform, ones (a
      varied oversampler, pulled a little towards SMOTE by the anchor);
      ``decision_lr`` lets them move faster.

    This is not the reinforcement-learning AutoSMOTE of Zha et al. (CIKM
    2022). Features must be numeric and are best standardised: every
    candidate is built in input space.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The classifier; it must return logits of shape ``(n, n_classes)``.
        ``None`` means :class:`MLP`.
    variant : {"cohort", "self"}, default="cohort"
        Decisions shared by learned cohorts, or made per row.
    n_cohorts : int, default=3
        Number of cohorts of the cohort variant (the paper searches 1 to 7).
    k_max : int, default=6
        Largest number of neighbours a seed may use.
    aggregations : tuple of str, default=("linear", "min", "max", "sum", "average", "weighted")
        The aggregations to choose from, a non-empty subset of these names.
    temperature : float, default=1.0
        Gumbel-softmax temperature (> 0), at the first epoch.
    temperature_schedule : {"constant", "exponential"}, default="constant"
        ``"exponential"`` anneals the temperature geometrically from
        ``temperature`` at the first epoch to ``min_temperature`` at the last.
    min_temperature : float, default=0.5
        Final temperature of the exponential schedule.
    decision_hidden_units : tuple of int, default=(32,)
        Hidden layer widths of each decision network.
    min_participation : float in [0, 1], default=0.0
        Floor on the share of a minibatch's seeds that take part; ``1``
        makes every seed take part.
    objective : {"bilevel", "joint"}, default="bilevel"
        ``"bilevel"`` (ours) trains the decision networks on the
        class-balanced validation loss of the classifier after a one-step
        look-ahead on the training loss (DARTS' second-order step), so that
        they are rewarded for rows that help the rare classes on held-out
        data rather than rows that are easy to fit; a step costs about
        three times a joint one, and the validation fold also trains the
        decision networks. ``"joint"`` (the paper's literal reading) trains
        them on the training loss, with the classifier.
    anchor : float >= 0, default=3.0
        Strength of the pull of the decision distributions towards SMOTE's
        point of the decision space (ours): every seed takes part, with
        ``k = min(5, k_max, its feasible neighbours)`` (imbalanced-learn's
        ``k_neighbors=5``) and ``linear`` aggregation. The decision networks'
        loss (the training loss with ``objective="joint"``, the look-ahead
        validation loss with ``"bilevel"``) gets ``anchor`` times the mean,
        over the step's seeds, of ``KL(smote || q)`` summed over the three
        decisions, ``q`` the seed's decision distribution (its drawn
        cohort's); SMOTE's point being a point mass, each KL is the
        cross-entropy ``-log q(SMOTE's choice)``, of ``k`` over the feasible
        ``k`` only. Without ``"linear"`` in ``aggregations`` the aggregation
        has no term. The classifier's gradients and the reported loss do not
        change. The default, 3, was chosen on validation folds of seven
        selection sets, by a rule fixed in advance (issue 23,
        ``docs/benchmarks_autosmote.md``); ``0`` adds nothing and trains as
        before the anchor existed.
    decision_lr : float > 0 or None, default=None
        Learning rate of the decision networks (ours), in a parameter group
        of their own in the classifier's optimiser, under its schedule;
        ``None`` trains them at ``lr``. The paper trains both at 0.05. At the
        default ``lr=1e-3`` the decision distributions move little from
        their initial, almost uniform, ones; ``decision_lr=0.05`` lets them
        travel (to SMOTE's point under the default anchor), which scored
        lower on the validation folds that chose the defaults (issue 23,
        ``docs/benchmarks_autosmote.md``).
    sampling_strategy : float, str, dict or callable, default="auto"
        The synthetic rows per class and epoch, as imbalanced-learn's
        over-samplers read it, on the training fold.
    art : bool, default=False
        Draw the real rows with ART's class sampler (see
        :class:`ARTClassifier`) in addition; use a ``sampling_strategy``
        below balance with it.
    criterion : torch.nn.Module class or instance, default=None
        Loss with a ``reduction`` attribute (as torch's losses have): the
        synthetic rows' losses are weighted row by row. ``None`` means
        cross-entropy.
    optimizer : torch.optim.Optimizer class, default=torch.optim.AdamW
        One optimizer for the classifier and the decision networks. The
        training defaults (``optimizer``, ``lr``, ``max_epochs``,
        ``patience``, ``lr_schedule``) are :class:`ARTClassifier`'s, so that
        the network trains as that of a SMOTE pipeline does; they were
        chosen on validation folds over the paper's training (issue 23).
        The paper's training is ``optimizer=torch.optim.Adam, lr=0.05,
        max_epochs=200, patience=None, lr_schedule=None``.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=100
        Maximum number of epochs.
    batch_size : int, default=128
        Real rows per minibatch (synthetic rows come on top).
    patience : int or None, default=10
        Early stopping patience on what ``monitor`` watches; ``None`` trains
        for ``max_epochs``.
    warm_start : bool, default=False
        If True, a second ``fit`` continues the fitted classifier *and*
        decision networks (``net_.generator_``): their weights, the shared
        optimiser's state and the history go on for ``max_epochs`` more
        epochs (the learning rate starts a new cosine cycle; the temperature
        schedule goes on from the epoch reached). The data must have the same
        features and classes, and the parameters the same networks
        (``k_max``, ``aggregations``, ``variant``, ...); the validation fold,
        the seeds and their neighbours are drawn from the new data.

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
        The fitted net; ``net_.generator_`` holds the decision networks.
    history_ : skorch.History
        One row per epoch: ``train_loss``, ``valid_loss``, ``class_scores``,
        ``temperature``, ``participation``, ``entropy_participation``,
        ``entropy_k``, ``entropy_aggregation`` (and ``entropy_cohort``).
    class_counts_ : ndarray of shape (n_classes,)
        Rows per class in the training fold.
    sampling_strategy_ : dict
        Synthetic rows per class label and epoch.
    decision_distributions_ : dict of ndarray
        For each seed (a training-fold row of a class that is oversampled):
        ``"participation"`` (probability of taking part), ``"k"``
        (probabilities of 1 to ``k_max`` neighbours) and ``"aggregation"``
        (probabilities over ``aggregations``); in the cohort variant, those
        of the seed's most likely cohort.
    seed_classes_ : ndarray of shape (n_seeds,)
        Class label of each seed.
    cohort_assignments_ : ndarray of shape (n_seeds,) or None
        Most likely cohort of each seed; ``None`` in the self variant.
    neighbors_ : ndarray of shape (n_seeds, k_max)
        Each seed's nearest neighbours of its class, as positions among the
        seeds (``-1`` where the class has too few rows).
    sampling_distribution_ : ndarray of shape (n_classes,)
        Class distribution of the real rows at the end of training.
    n_iter_ : int
        Epochs run.

    See Also
    --------
    skart.over_sampling.AutoSMOTE : The learned decisions as an
        imbalanced-learn over-sampler.

    References
    ----------
    .. [1] Kishanthan and Hevapathige, "Deep Learning Meets Oversampling: A
       Learning Framework to Handle Imbalanced Classification",
       arXiv:2502.06878, 2025.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skart import AutoSMOTEClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = AutoSMOTEClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> sorted(clf.decision_distributions_)
    ['aggregation', 'k', 'participation']
    """

    _parameter_constraints: dict = {
        **BaseNetClassifier._parameter_constraints,
        **ARTResampling._art_constraints,
        "variant": [StrOptions({"self", "cohort"})],
        "n_cohorts": [Interval(Integral, 1, None, closed="left")],
        "k_max": [Interval(Integral, 1, None, closed="left")],
        "aggregations": [tuple, list],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "temperature_schedule": [StrOptions({"constant", "exponential"})],
        "min_temperature": [Interval(Real, 0, None, closed="neither")],
        "decision_hidden_units": [tuple, list],
        "min_participation": [Interval(Real, 0, 1, closed="both")],
        "objective": [StrOptions({"joint", "bilevel"})],
        "anchor": [Interval(Real, 0, None, closed="left")],
        "decision_lr": [Interval(Real, 0, None, closed="neither"), None],
        "sampling_strategy": BaseOverSampler._parameter_constraints[
            "sampling_strategy"
        ],
    }

    _net_class = AutoSMOTENet
    # Candidates are built in input space: rows must be dense 2-d vectors.
    _input_checks = {"accept_sparse": False, "allow_nd": False}
    _synthesises_features = True

    def __init__(
        self,
        module=None,
        *,
        variant="cohort",
        n_cohorts=3,
        k_max=6,
        aggregations=AGGREGATIONS,
        temperature=1.0,
        temperature_schedule="constant",
        min_temperature=0.5,
        decision_hidden_units=(32,),
        min_participation=0.0,
        objective="bilevel",
        anchor=3.0,
        decision_lr=None,
        sampling_strategy="auto",
        art=False,
        c=0.5,
        bf=1,
        metric="f1",
        smooth=1.0,
        validation_fraction=0.15,
        criterion=None,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=100,
        batch_size=128,
        train_transform=None,
        patience=10,
        monitor="loss",
        lr_schedule="cosine",
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
        self.variant = variant
        self.n_cohorts = n_cohorts
        self.k_max = k_max
        self.aggregations = aggregations
        self.temperature = temperature
        self.temperature_schedule = temperature_schedule
        self.min_temperature = min_temperature
        self.decision_hidden_units = decision_hidden_units
        self.min_participation = min_participation
        self.objective = objective
        self.anchor = anchor
        self.decision_lr = decision_lr
        self.sampling_strategy = sampling_strategy
        self.art = art
        self.c = c
        self.bf = bf
        self.metric = metric
        self.smooth = smooth
        self.validation_fraction = validation_fraction
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
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

    def _check_aggregations(self):
        unknown = [a for a in self.aggregations if a not in AGGREGATIONS]
        if unknown or not len(self.aggregations):
            raise ValueError(
                f"aggregations={tuple(self.aggregations)!r} "
                + (f"has unknown names {unknown}. " if unknown else "is empty. ")
                + f"Choose a non-empty subset of {AGGREGATIONS}."
            )
        if len(set(self.aggregations)) != len(self.aggregations):
            raise ValueError(
                f"aggregations={tuple(self.aggregations)!r} names an aggregation "
                "twice; give each at most once."
            )

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_val=None, y_val=None, sample_weight=None):
        """Train the classifier and the decision networks together.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or torch Dataset
            Training data: numeric (dense; a DataFrame is fine). Sparse
            matrices are refused. A ``torch.utils.data.Dataset`` whose inputs
            are feature vectors (1-d) is read into an array, since new vectors
            are synthesised between them; other Datasets are refused (embed
            them first).
        y : array-like of shape (n_samples,) or None
            Class labels of any type ``LabelEncoder`` accepts. With a Dataset,
            ``None`` reads them from its ``targets`` attribute.
        X_val : array-like of shape (n_val, n_features), default=None
            A validation set of your own; ``None`` holds out
            ``validation_fraction`` of each class of ``X``.
        y_val : array-like of shape (n_val,), default=None
            Labels of ``X_val``, all among the labels of ``y``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows of ``X``. Real rows are drawn in
            proportion to them (as in :class:`~skart.ARTClassifier`); seeds
            are drawn within their class in proportion to them, and a row of
            weight 0 is neither seed nor neighbour; ``sampling_strategy``
            reads each class's size as its share of the total weight; the
            validation loss (early stopping, and the class-balanced outer
            loss of ``objective="bilevel"``) and scores are weighted. A weight
            of 0 acts as removing the row, an integer weight (statistically)
            as repeating it (repeated rows would also be each other's
            nearest neighbours, weighted rows are not), and equal weights
            give the same model as none. ``X_val`` is scored unweighted.

        Returns
        -------
        self : AutoSMOTEClassifier
            The fitted classifier.
        """
        self._check_aggregations()
        return self._fit(X, y, X_val=X_val, y_val=y_val, sample_weight=sample_weight)

    # -- hooks --------------------------------------------------------------

    def _net_kwargs(self, data):
        generator = functools.partial(
            DecisionNets,
            data.n_features,
            len(self.classes_),
            variant=self.variant,
            n_cohorts=self.n_cohorts,
            k_max=self.k_max,
            n_aggregations=len(self.aggregations),
            weighted="weighted" in self.aggregations,
            hidden_units=tuple(self.decision_hidden_units),
        )
        kwargs = {
            "generator": generator,
            "aggregations": tuple(self.aggregations),
            "min_participation": self.min_participation,
            "objective": self.objective,
            "anchor": self.anchor,
            "decision_lr": self.decision_lr,
        }
        if not data.has_data:
            # skart.load_fitted: the decision networks without a pool of seeds
            # (their weights and sampling_strategy_ come from the file).
            return kwargs
        return {**kwargs, **self._seed_pool(data)}

    def _seed_pool(self, data):
        """The pool of seeds and the validation fold of the bilevel step."""
        labels = self.classes_[data.y_train]
        if data.w_train is not None:
            # The strategy reads class sizes: in a weighted fit, the rows an
            # epoch draws of each class (its share of the total weight).
            share = (
                np.bincount(data.y_train, data.w_train, minlength=len(self.classes_))
                / data.w_train.sum()
            )
            sizes = np.round(share * len(data.y_train)).astype(np.int64)
            labels = np.repeat(self.classes_, sizes)
        strategy = check_sampling_strategy(
            self.sampling_strategy, labels, "over-sampling"
        )
        budgets = {
            int(np.searchsorted(self.classes_, label)): int(n)
            for label, n in strategy.items()
            if n > 0
        }
        in_pool = np.isin(data.y_train, list(budgets))
        if data.w_train is not None:
            in_pool &= data.w_train > 0  # weight 0: neither seed nor neighbour
        pool_rows = np.flatnonzero(in_pool)
        y_pool = data.y_train[pool_rows].astype(np.int64)  # labels of its losses
        # The neighbour search copies one class's rows at a time; training
        # reads the pool's rows from the training fold (``SeedPool.take``).
        neighbors, n_neighbors = class_neighbors(
            data.X_train, y_pool, self.k_max, rows=pool_rows
        )
        for c in np.unique(y_pool):
            n_c = int((y_pool == c).sum())
            if n_c == 1:
                warnings.warn(
                    f"Class {self.classes_[c]!r} has 1 row in the training fold: "
                    "it has no neighbour, so its synthetic rows are copies of that "
                    "row (random oversampling). Give the class more rows for "
                    "interpolated ones.",
                    UserWarning,
                    stacklevel=3,
                )
            elif n_c <= self.k_max:
                warnings.warn(
                    f"Class {self.classes_[c]!r} has {n_c} rows in the training "
                    f"fold, fewer than k_max + 1 = {self.k_max + 1}: its seeds use "
                    f"at most {n_c - 1} neighbours (larger k are masked). Lower "
                    "k_max to silence this.",
                    UserWarning,
                    stacklevel=3,
                )
        device = torch.device(self.device)
        pool = SeedPool(
            data.train_ds.X,
            torch.from_numpy(y_pool).to(device),
            torch.from_numpy(neighbors).to(device),
            torch.from_numpy(n_neighbors).to(device),
            budgets,
            len(data.y_train),
            weights=(
                None
                if data.w_train is None
                else torch.as_tensor(data.w_train[in_pool], device=device)
            ),
            source_rows=torch.from_numpy(pool_rows).to(device),
        )
        # What the fitted attributes are made of, carried by the pool.
        pool.sampling_strategy = dict(strategy)
        pool.labels, pool.neighbor_rows = y_pool, neighbors
        return {
            "pool": pool,
            "valid": (data.valid_ds.X, data.valid_ds.y) if len(data.y_valid) else None,
        }

    def _method_callbacks(self, data):
        temperatures = temperature_schedule(
            self.temperature,
            self.temperature_schedule,
            self.min_temperature,
            self.max_epochs,
        )
        return [("autosmote", DecisionMonitor(temperatures))]

    def _fitted_attributes(self, state, trained):
        pool = self.net_.pool
        dists, cohorts = decision_distributions(
            self.net_.generator_, pool.source, pool.y, pool.k_mask, pool.source_rows
        )
        return {
            "sampling_strategy_": pool.sampling_strategy,
            "seed_classes_": self.classes_[pool.labels],
            "neighbors_": pool.neighbor_rows,
            "decision_distributions_": dists,
            "cohort_assignments_": cohorts if self.variant == "cohort" else None,
        }
