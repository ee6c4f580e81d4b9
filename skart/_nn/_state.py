"""The state one ``fit`` hands to a method's hooks."""


class FitData:
    """What one ``fit`` hands to a method's hooks.

    Attributes
    ----------
    X_train, y_train, X_valid, y_valid
        The folds after the input checks: features as validated (ndarray or
        CSR), labels encoded as class indices, in the smallest integer dtype
        that holds them for the training fold (uint8 up to 256 classes) and
        int64 for the validation fold. None, as every fold below, when
        :meth:`BaseNetClassifier.load_fitted` rebuilds the net
        (``class_counts``, ``n_features`` and ``seed`` are set then).
    train_ds, valid_ds : ArrayDataset
        The same folds as tensors on the training device (sharing memory
        with the arrays on the CPU); their batches' labels are int64.
    class_counts : ndarray of shape (n_classes,)
        Rows per class in the training fold.
    n_features : int
        Features per row (the product of the trailing dimensions).
    seed : int
        The fit's seed for torch and the samplers.
    rng : numpy.random.RandomState
        The fit's random state, after the split and the seed were drawn.
    w_train, w_valid : ndarray or None
        Sample weights of the folds (None when unweighted; ``w_valid`` is
        None for a validation set given by the user).
    valid_weights : torch.Tensor or None
        ``w_valid`` on the training device.
    sampler : ClassDistributionSampler or None
        The sampler of the training fold: ART's, or the weighted draws of a
        weighted fit; None for plain shuffling.
    ddp : DistributedFit or None
        The data-parallel side of a ``distributed=True`` fit; it shards the
        sampler and the validation fold (``valid_ds``, ``valid_weights``).
    """

    def __init__(self, **attrs):
        vars(self).update(attrs)
