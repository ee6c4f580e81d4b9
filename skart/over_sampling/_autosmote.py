"""AutoSMOTE as an imbalanced-learn over-sampler: learned decisions, explicit rows."""

import copy
import math

import numpy as np
import scipy.sparse as sp
import torch
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_target_type
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from .._autosmote._classifier import AutoSMOTEClassifier
from .._autosmote._decision_nets import decision_distributions
from .._autosmote._synthesis import class_neighbors, neighbor_masks, synthesize
from .._params import HasMethods, validate_params
from .._validation import draw_seed


class AutoSMOTE(BaseOverSampler):
    """Over-sample with the oversampling decisions an AutoSMOTEClassifier learned.

    ``fit_resample`` fits :class:`~skart.AutoSMOTEClassifier` (its decision
    networks and classifier, trained together) on ``(X, y)``, then makes the
    synthetic rows with the learned decisions: for each class to over-sample
    it draws seeds with probability proportional to their learned
    participation probability (raised to 1 for the seeds the classifier's
    ``min_participation`` floor forces in; uniformly if every probability is
    0), draws each seed's cohort, neighbour count and aggregation from the
    decision networks (Gumbel-max draws), and builds the point from the
    seed's nearest neighbours of the same class in ``X``. A sparse ``X`` is
    densified for the arithmetic and returned sparse. The output is the
    original rows, unchanged and in order, followed by the synthetic rows,
    class by class, as imbalanced-learn's over-samplers return them.

    Using the rows with another classifier (e.g. in
    ``make_pipeline(StandardScaler(), AutoSMOTE(), ARTClassifier())``) is
    our extension: the paper learns the decisions with, and for, its own
    classifier. Features must be numeric and are best standardised first.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        The number of rows to add per class, as every imbalanced-learn
        over-sampler reads it. The same value is the estimator's
        ``sampling_strategy`` (its synthetic rows per epoch).
    estimator : AutoSMOTEClassifier, default=None
        The classifier whose decisions are learned; cloned before fitting.
        ``None`` means ``AutoSMOTEClassifier()``.
        Its parameters, ``anchor`` (the pull towards SMOTE's decisions)
        included, shape the decisions the rows are drawn from.
    random_state : int, RandomState instance or None, default=None
        Seeds the estimator's fit (when not None) and the draws of the
        synthetic rows.

    Attributes
    ----------
    sampling_strategy_ : dict
        Rows added per class label.
    estimator_ : AutoSMOTEClassifier
        The fitted classifier.
    neighbors_ : ndarray of shape (n_samples, k_max)
        Each row's nearest neighbours among the rows of its class in ``X``
        (positions in ``X``; ``-1`` where the class has too few rows).
    decision_distributions_ : dict of ndarray
        Each row's decision probabilities: ``"participation"`` (n_samples,),
        ``"k"`` (n_samples, k_max), ``"aggregation"`` (n_samples,
        n_aggregations); in the cohort variant, those of its most likely
        cohort.
    cohort_assignments_ : ndarray of shape (n_samples,) or None
        Each row's most likely cohort; ``None`` in the self variant.
    seed_indices_ : ndarray of shape (n_synthetic,)
        Position in ``X`` of the seed of each synthetic row.
    synthetic_decisions_ : dict of ndarray
        For each synthetic row, the drawn ``"k"`` (1 to ``k_max``) and
        ``"aggregation"`` (a name; ``"copy"`` for a one-row class).
    n_features_in_ : int
        Number of features seen in ``fit_resample``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` is a DataFrame with string column names.

    See Also
    --------
    skart.AutoSMOTEClassifier : The classifier that learns the decisions.

    References
    ----------
    .. [1] Kishanthan and Hevapathige, "Deep Learning Meets Oversampling: A
       Learning Framework to Handle Imbalanced Classification",
       arXiv:2502.06878, 2025.

    Examples
    --------
    >>> from collections import Counter
    >>> from sklearn.datasets import make_classification
    >>> from skart import AutoSMOTEClassifier
    >>> from skart.over_sampling import AutoSMOTE
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> sampler = AutoSMOTE(estimator=AutoSMOTEClassifier(max_epochs=5), random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> sorted(Counter(y_res).values())
    [269, 269]
    >>> bool((X_res[:300] == X).all())
    True
    """

    # imbalanced-learn's fit and fit_resample hand these to scikit-learn's
    # own validator, which knows its private constraint classes only: so
    # "estimator" is left to skart's validator, in _check_X_y (called first
    # by both).
    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "estimator": "no_validation",
    }
    _skart_constraints: dict = {"estimator": [None, HasMethods(["fit", "predict"])]}

    def __init__(self, *, sampling_strategy="auto", estimator=None, random_state=None):
        super().__init__(sampling_strategy=sampling_strategy)
        self.estimator = estimator
        self.random_state = random_state

    def _check_X_y(self, X, y, accept_sparse=None):
        # Always: fit_resample runs with scikit-learn's validation skipped.
        validate_params(self, self._skart_constraints)
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        try:
            X, y = validate_data(
                self,
                X=X,
                y=y,
                reset=True,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
            )
        except ValueError as error:
            if "convert" not in str(error):
                raise
            raise ValueError(
                f"{type(self).__name__} builds synthetic rows by arithmetic on the "
                "features, so every feature must be numeric; got non-numeric "
                f"values ({error}). Encode categorical features first (e.g. "
                "OneHotEncoder) or use imbalanced-learn's SMOTENC / SMOTEN."
            ) from error
        return X, y, binarize_y

    def _fit_resample(self, X, y):
        sparse_input = sp.issparse(X)
        X_in, X = X, X.toarray() if sparse_input else X  # densified for arithmetic
        estimator = AutoSMOTEClassifier() if self.estimator is None else self.estimator
        if not isinstance(estimator, AutoSMOTEClassifier):
            raise ValueError(
                f"estimator must be an AutoSMOTEClassifier; got "
                f"{type(estimator).__name__}. Pass AutoSMOTEClassifier(...) with the "
                "settings you want."
            )
        rng = check_random_state(self.random_state)
        estimator = clone(estimator).set_params(
            sampling_strategy=self.sampling_strategy
        )
        if self.random_state is not None:
            estimator.set_params(random_state=draw_seed(rng))
        self.estimator_ = estimator.fit(X, y)

        classes = estimator.classes_
        y_enc = np.searchsorted(classes, y)
        neighbors, n_neighbors = class_neighbors(X, y_enc, estimator.k_max)
        self.neighbors_ = neighbors
        padded, k_mask = neighbor_masks(neighbors, n_neighbors)
        nets = copy.deepcopy(estimator.net_.generator_).cpu().eval()
        X_t = torch.from_numpy(np.asarray(X, dtype=np.float32))
        y_t = torch.from_numpy(y_enc.astype(np.int64))
        k_mask_t = torch.from_numpy(k_mask)
        dists, cohorts = decision_distributions(nets, X_t, y_t, k_mask_t)
        self.decision_distributions_ = dists
        self.cohort_assignments_ = cohorts

        gen = torch.Generator().manual_seed(draw_seed(rng))
        X_new, y_new, seeds, ks, aggs = [X], [y], [], [], []
        names = np.array([*estimator.aggregations, "copy"])
        for label, n_new in self.sampling_strategy_.items():
            if n_new == 0:
                continue
            rows = np.flatnonzero(y == label)
            p = dists["participation"][rows]
            n_forced = math.ceil(estimator.min_participation * len(rows))
            p[np.argsort(-p, kind="stable")[:n_forced]] = 1.0
            p = p / p.sum() if p.sum() > 0 else None
            seed = rng.choice(rows, size=n_new, p=p)
            with torch.no_grad():
                z, dec = synthesize(
                    nets,
                    estimator.aggregations,
                    X_t[seed],
                    y_t[seed],
                    X_t[padded[seed]],
                    torch.from_numpy(n_neighbors[seed]),
                    k_mask_t[seed],
                    1.0,
                    generator=gen,
                )
            copies = n_neighbors[seed] == 0
            X_new.append(z.numpy().astype(X.dtype))
            y_new.append(np.full(n_new, label, dtype=y.dtype))
            seeds.append(seed)
            ks.append(dec["draw_k"].argmax(1).numpy() + 1)
            aggs.append(
                np.where(copies, len(names) - 1, dec["draw_aggregation"].argmax(1))
            )
        self.seed_indices_ = np.concatenate(seeds) if seeds else np.zeros(0, int)
        self.synthetic_decisions_ = {
            "k": np.concatenate(ks) if ks else np.zeros(0, int),
            "aggregation": names[np.concatenate(aggs)] if aggs else names[:0],
        }
        if sparse_input:  # sparse in, sparse out, as imbalanced-learn's samplers
            X_res = sp.vstack(
                [X_in, *map(sp.csr_matrix, X_new[1:])], format=X_in.format
            )
        else:
            X_res = np.vstack(X_new)
        return X_res, np.concatenate(y_new)
