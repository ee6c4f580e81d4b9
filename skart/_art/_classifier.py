"""ARTClassifier: a scikit-learn classifier that trains a skorch net with ART.

The machinery (routed parameters, input checks, split, seeding, the net and
its callbacks, prediction) lives in :mod:`skart._nn`; ART itself is the
sampler and callback that the base adds when ``art=True``.
"""

import torch

from .._nn._docs import CORE_PARAMETERS, Substitution
from .._nn._estimator import BaseNetClassifier
from .._params import fit_context
from ._resampling import ART_PARAMETERS, ARTResampling


@Substitution(CORE_PARAMETERS, ART_PARAMETERS)
class ARTClassifier(ARTResampling, BaseNetClassifier):
    """Neural network classifier trained with Adaptive Resampling-based Training.

    ART watches the network while it trains. Every ``bf`` epochs it scores
    each class on an internal, stratified validation fold (F1 by default),
    turns the scores into difficulties ``s_i = 1 - f_i``, normalises them to
    ``w_i = s_i / sum(s)``, blends them with the empirical class prior,
    ``p = c * prior + (1 - c) * w``, and draws the following epochs'
    minibatches by class according to ``p``.

    The network is a skorch :class:`~skorch.NeuralNetClassifier` built at
    ``fit`` (``net_``). By default it is an :class:`MLP` trained with AdamW, a
    cosine-annealed learning rate and early stopping on the validation loss
    that restores the best weights. Any :class:`torch.nn.Module` returning
    logits, and any criterion, can replace them. Parameters of the module,
    criterion, optimizer, iterators and callbacks are given flat, as in
    skorch: ``module__hidden_units=(128, 64)``, ``optimizer__weight_decay=0``;
    ``GridSearchCV`` and ``set_params`` reach them under the same names.

    Parameters
    ----------
    art : bool, default=True
        Resample with ART. ``False`` trains the same network on the same
        folds with plain shuffling: the baseline that isolates ART's effect
        (the per-class metric is still recorded in the history).
    distributed : bool, default=False
        Train one model data-parallel on every process of a
        ``torch.distributed`` process group (start the script with
        ``torchrun`` and call ``torch.distributed.init_process_group`` before
        ``fit``; gloo on CPU, NCCL on GPUs with ``device=f"cuda:{local_rank}"``).
        Every rank passes the same, whole data: each trains on its shard of
        one global pass per epoch keyed by ``(random_state, epoch)``, with
        gradients averaged by ``DistributedDataParallel``, and scores its
        shard of the validation fold; ART's class scores and the losses
        read by early stopping are those of the whole fold, so every rank
        ends with the same fitted estimator. ``batch_size`` is per process.
        See the "Scaling out" page of the documentation.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features (size of the second dimension) seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` is a DataFrame with string column names.
    net_ : skorch.NeuralNetClassifier
        The fitted net.
    history_ : skorch.History
        One row per epoch: ``train_loss``, ``valid_loss``, ``class_scores``,
        ``valid_<metric>``, and with ART ``p`` (the distribution the epoch
        drew from) and ``art_refresh``. ``history_[:, "valid_loss"]`` slices it.
    class_counts_ : ndarray of shape (n_classes,)
        Rows per class in the training fold.
    sampling_distribution_ : ndarray of shape (n_classes,)
        Class distribution in force at the end of training (the training
        fold's prior when ``art=False``).
    decision_offsets_ : ndarray of shape (n_classes,)
        Offsets added to the log-probabilities before ``predict``'s argmax
        (zeros with ``decision="argmax"``).
    decision_threshold_ : float
        Two classes only: ``predict`` gives ``classes_[1]`` when its
        probability is at least this (0.5 with ``decision="argmax"``).
    n_iter_ : int
        Epochs run in all (a warm start adds its epochs to the history).

    See Also
    --------
    ARTCallback : The ART update as a skorch callback, for nets of your own.
    ClassDistributionSampler : The class-distribution sampler.

    References
    ----------
    .. [1] ART: Adaptive Resampling-based Training for Imbalanced
       Classification, arXiv:2509.00955, 2025.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skart import ARTClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = ARTClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> len(clf.history_[0, "p"])
    2
    """

    _parameter_constraints: dict = {
        **BaseNetClassifier._parameter_constraints,
        **ARTResampling._art_constraints,
    }

    def __init__(
        self,
        module=None,
        *,
        c=0.5,
        bf=1,
        metric="f1",
        smooth=1.0,
        art=True,
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
        distributed=False,
        checkpoint=None,
        **kwargs,
    ):
        self.module = module
        self.c = c
        self.bf = bf
        self.metric = metric
        self.smooth = smooth
        self.art = art
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
        self.distributed = distributed
        self.checkpoint = checkpoint
        # Stored as they come, like skorch; their names are checked in fit.
        vars(self).update(kwargs)

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_val=None, y_val=None, sample_weight=None):
        """Train the network with ART.

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
            A validation set of your own for ART's scores and early stopping.
            ``None`` holds out ``validation_fraction`` of each class of ``X``.
        y_val : array-like of shape (n_val,), default=None
            Labels of ``X_val``, all among the labels of ``y``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows of ``X``. Training draws rows in
            proportion to their weights (within each class, and ART's prior
            is each class's share of the weight; without ART each epoch is a
            weighted draw with replacement), and the validation fold's class
            scores and loss are weighted. A weight of 0 acts as removing the
            row, an integer weight (statistically) as repeating it, and equal
            weights give the same model as none. ``X_val`` is scored
            unweighted.

        Returns
        -------
        self : ARTClassifier
            The fitted classifier.
        """
        return self._fit(X, y, X_val=X_val, y_val=y_val, sample_weight=sample_weight)
