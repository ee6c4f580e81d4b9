"""MSMOTE (Hu et al., 2009) as an imbalanced-learn over-sampler.

The PyPI package ``smote-variants`` ships an MSMOTE, but it pulls tensorflow,
keras and mkl and does not install cleanly here, so the benchmark carries
its own implementation, written from the paper's description.
"""

import numbers
import warnings

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

SAFE, BORDER, NOISE = 0, 1, 2


class MSMOTE(BaseOverSampler):
    """Modified SMOTE: synthesise minority samples according to their type.

    Each sample of a class to over-sample (the "minority", one class against
    all the others) is typed by its ``k_neighbors`` nearest neighbours among
    all samples:

    - *safe*: all neighbours are of its class;
    - *latent noise*: none is;
    - *border*: otherwise.

    Synthetic samples are then drawn as in SMOTE, on the segment between a
    base sample and one of its ``k_neighbors`` nearest neighbours of the same
    class, at a uniform random position, but the neighbour depends on the
    base sample's type: any of them for a safe sample, the nearest one only
    for a border sample, and latent-noise samples are never used as base.
    Base samples are drawn uniformly, with replacement, among the safe and
    border samples. Several classes are over-sampled one after the other, each
    against all other classes, as :class:`imblearn.over_sampling.SMOTE` does.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        How many samples to reach per class, as in imbalanced-learn.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of base samples, neighbours and positions.
    k_neighbors : int >= 1, default=5
        Neighbours used both to type samples and to interpolate. It is capped
        at the number of other samples of the class (for interpolation) and
        of the data set (for typing).

    Attributes
    ----------
    sampling_strategy_ : dict
        Class label -> number of samples to generate.
    sample_types_ : dict
        Class label -> array of the type of each of its samples, in the order
        they appear in ``y``: 0 safe, 1 border, 2 latent noise.

    Notes
    -----
    A class whose samples are all latent noise, or that has a single sample,
    gets no synthetic samples (with a warning), so it stays below the target
    count.

    References
    ----------
    .. [1] S. Hu, Y. Liang, L. Ma, Y. He, "MSMOTE: Improving Classification
       Performance When Training Data is Imbalanced", Second International
       Workshop on Computer Science and Engineering, 2009, 13-17.
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, *, sampling_strategy="auto", random_state=None, k_neighbors=5):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.k_neighbors = k_neighbors

    def _fit_resample(self, X, y):
        rng = check_random_state(self.random_state)
        X_parts, y_parts = [X], [y]
        self.sample_types_ = {}
        for label, n_samples in self.sampling_strategy_.items():
            idx = np.flatnonzero(y == label)
            types = self._types(X, y, idx)
            self.sample_types_[label] = types
            if n_samples == 0:
                continue
            X_new = self._generate(X[idx], types, n_samples, rng, label)
            X_parts.append(X_new.astype(X.dtype, copy=False))
            y_parts.append(np.full(len(X_new), label, dtype=y.dtype))
        return np.vstack(X_parts), np.concatenate(y_parts)

    def _types(self, X, y, idx):
        """Type of each sample of one class by its neighbours in the whole set."""
        k = min(self.k_neighbors, len(X) - 1)
        nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
        neigh = nn.kneighbors(X[idx], return_distance=False)[:, 1:]  # (n_class, k)
        same = (y[neigh] == y[idx][:, None]).sum(axis=1)
        return np.where(same == k, SAFE, np.where(same == 0, NOISE, BORDER))

    def _generate(self, X_class, types, n_samples, rng, label):
        n_features = X_class.shape[1]
        eligible = np.flatnonzero(types != NOISE)
        if len(X_class) < 2 or len(eligible) == 0:
            warnings.warn(
                f"MSMOTE cannot over-sample class {label!r}: it has "
                f"{len(X_class)} sample(s), {len(eligible)} of them safe or "
                "border. It keeps its original samples only.",
                UserWarning,
                stacklevel=3,
            )
            return np.empty((0, n_features), dtype=X_class.dtype)
        k = min(self.k_neighbors, len(X_class) - 1)
        nn = NearestNeighbors(n_neighbors=k + 1).fit(X_class)
        # Minority neighbours sorted by distance, self excluded: (n_class, k).
        neigh = nn.kneighbors(X_class, return_distance=False)[:, 1:]
        base = rng.choice(eligible, size=n_samples, replace=True)  # (n_samples,)
        # Safe: any of the k minority neighbours; border: the nearest only.
        col = np.where(types[base] == SAFE, rng.randint(0, k, size=n_samples), 0)
        partner = neigh[base, col]
        gap = rng.uniform(size=(n_samples, 1))
        return X_class[base] + gap * (X_class[partner] - X_class[base])
