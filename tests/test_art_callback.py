import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from skorch.dataset import ValidSplit
from torch import nn

from skart import MLP, ARTCallback, ClassDistributionSampler, art_distribution


class CountingMLP(MLP):
    calls = 0

    def forward(self, X):
        type(self).calls += 1
        return super().forward(X)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=600, p=[0.7, 0.2, 0.1])
    X = (rng.normal(size=(600, 5)) + y[:, None]).astype(np.float32)
    return X, y.astype(np.int64)


def _net(sampler, callback, **kw):
    kw = {"lr": 1e-2, "batch_size": 64, **kw}
    return NeuralNetClassifier(
        CountingMLP,
        module__n_features=5,
        module__n_classes=3,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        iterator_train__sampler=sampler,
        train_split=ValidSplit(0.2, stratified=True, random_state=0),
        callbacks=[callback],
        verbose=0,
        **kw,
    )


def _train_labels(X, y):
    """Labels of the training fold that the nets' ValidSplit keeps: the sampler's rows."""
    net = _net(None, None)
    train_ds, _ = net.train_split(net.get_dataset(X, y), y)
    return y[train_ds.indices]


@pytest.mark.parametrize("bf", [1, 2, 3])
def test_refreshes_exactly_every_bf_epochs(data, bf):
    X, y = data
    sampler = ClassDistributionSampler(_train_labels(X, y), random_state=0)
    cb = ARTCallback(sampler, c=0.3, bf=bf)
    net = _net(sampler, cb, max_epochs=7).fit(X, y)
    hist = net.history
    refreshes = [e + 1 for e, r in enumerate(hist[:, "art_refresh"]) if r]
    assert refreshes == list(range(bf, 8, bf))
    assert cb.n_refreshes_ == len(refreshes)


def _f1_per_class(y_true, y_pred, labels):
    from sklearn.metrics import f1_score

    return f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)


# A callable metric keeps every row's prediction and counts the fold's support
# itself (once per fit); the built-in one reads it from its per-class counts.
@pytest.mark.parametrize(
    "smooth, metric", [(0.0, "f1"), (1.0, "f1"), (5.0, "f1"), (1.0, _f1_per_class)]
)
def test_p_follows_the_update_rule(data, smooth, metric):
    X, y = data
    sampler = ClassDistributionSampler(_train_labels(X, y), random_state=0)
    cb = ARTCallback(sampler, c=0.4, bf=2, smooth=smooth, metric=metric)
    net = _net(sampler, cb, max_epochs=6).fit(X, y)
    hist = net.history
    prior = sampler.class_counts / sampler.class_counts.sum()
    _, valid_ds = net.train_split(net.get_dataset(X, y), y)
    support = np.bincount(y[valid_ds.indices], minlength=len(prior))

    def rule(scores):
        return art_distribution(scores, prior, 0.4, support=support, smooth=smooth)

    # Epoch 1 draws from the start distribution: w uniform.
    np.testing.assert_allclose(hist[0, "p"], art_distribution(None, prior, 0.4))
    for e in range(1, 6):
        if hist[e - 1, "art_refresh"]:
            want = rule(hist[e - 1, "class_scores"])
        else:
            want = hist[e - 1, "p"]
        np.testing.assert_allclose(hist[e, "p"], want)
    np.testing.assert_allclose(sampler.p, rule(hist[-1, "class_scores"]))


def test_support_is_counted_again_by_each_fit(data):
    # The support is counted once per fit: a refit on another validation
    # fold smooths with that fold's support, not the first one's.
    X, y = data
    sampler = ClassDistributionSampler(_train_labels(X, y), random_state=0)
    cb = ARTCallback(sampler, c=0.4, bf=1, smooth=50.0, metric=_f1_per_class)
    net = _net(sampler, cb, max_epochs=2).fit(X, y)
    first = np.bincount(y[net.train_split(net.get_dataset(X, y), y)[1].indices])
    # A fold of the same size (the sampler's rows), with other class counts.
    net.set_params(train_split=ValidSplit(0.2, stratified=False, random_state=1))
    net.fit(X, y)
    _, valid_ds = net.train_split(net.get_dataset(X, y), y)
    support = np.bincount(y[valid_ds.indices], minlength=3)
    assert not np.array_equal(support, first)
    prior = sampler.class_counts / sampler.class_counts.sum()
    want = art_distribution(
        net.history[-1, "class_scores"], prior, 0.4, support=support, smooth=50.0
    )
    np.testing.assert_allclose(sampler.p, want)


def test_smooth_must_be_non_negative(data):
    X, y = data
    sampler = ClassDistributionSampler(_train_labels(X, y), random_state=0)
    with pytest.raises(ValueError, match="smooth must be >= 0"):
        _net(sampler, ARTCallback(sampler, smooth=-1.0), max_epochs=1).fit(X, y)


def test_no_second_forward_pass(data):
    X, y = data
    sampler = ClassDistributionSampler(_train_labels(X, y), random_state=0)
    net = _net(sampler, ARTCallback(sampler), max_epochs=2, batch_size=600)
    CountingMLP.calls = 0
    net.fit(X, y)
    # per epoch: one training batch and one validation batch, nothing more
    assert CountingMLP.calls == 2 * 2


def test_monitor_only_records_scores(data):
    X, y = data
    net = _net(None, ARTCallback(None), max_epochs=2, iterator_train__shuffle=True).fit(
        X, y
    )
    assert len(net.history[-1, "class_scores"]) == 3
    assert "p" not in net.history[-1]


def test_needs_a_validation_split(data):
    X, y = data
    net = _net(None, ARTCallback(None), max_epochs=1)
    net.set_params(train_split=None)
    with pytest.warns(UserWarning, match="saw no validation batch"):
        net.fit(X, y)


@pytest.mark.parametrize(
    "kwargs, match", [({"c": 1.5}, r"c must be in \[0, 1\]"), ({"bf": 0}, "bf must be")]
)
def test_bad_arguments(data, kwargs, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        _net(None, ARTCallback(None, **kwargs), max_epochs=1).fit(X, y)


@pytest.mark.parametrize("metric", ["f1", "recall", "precision"])
def test_batch_counts_give_the_scores_of_all_rows(metric):
    # Built-in metrics without weights add per-class counts batch by batch;
    # the scores are those of class_scores on all the epoch's rows.
    from skart._metrics import class_scores

    rng = np.random.default_rng(0)
    y_true = torch.from_numpy(rng.integers(0, 4, 300))
    logits = torch.from_numpy(rng.normal(size=(300, 4)))
    cb = ARTCallback(None, metric=metric).initialize()

    class Net:
        from skorch.history import History

        history = History()

    net = Net()
    net.history.new_epoch()
    cb.on_epoch_begin(net)
    for start in range(0, 300, 64):
        batch = (None, y_true[start : start + 64])
        cb.on_batch_end(net, batch, training=False, y_pred=logits[start : start + 64])
    assert not cb.y_true_ and cb.counts_.shape == (3, 4)
    cb.on_epoch_end(net)
    expected = class_scores(y_true, logits.argmax(dim=1), 4, metric)
    np.testing.assert_array_equal(net.history[-1, "class_scores"], expected)
