"""AutoSMOTEClassifier: synthesis, decision networks, the classifier, errors.

The sampler (skart.over_sampling.AutoSMOTE) is tested in test_over_sampling.py;
the core's contract over every network estimator in test_nn.py.
"""

import pickle

import numpy as np
import pytest
import torch
from autosmote_helpers import three_class_data, tiny
from sklearn.base import clone
from sklearn.datasets import make_classification

from skart._autosmote._decision_nets import DecisionNets, decision_distributions
from skart._autosmote._synthesis import (
    AGGREGATIONS,
    candidates,
    chosen_candidates,
    class_neighbors,
    gumbel_softmax,
    synthesize,
)


@pytest.fixture(scope="module")
def data():
    return three_class_data()


# -- Gumbel-softmax -----------------------------------------------------------


def test_gumbel_forward_is_one_hot_and_gradient_is_the_soft_one():
    logits = torch.randn(50, 5, requires_grad=True)
    gen = torch.Generator().manual_seed(0)
    y = gumbel_softmax(logits, 0.7, generator=gen)
    assert set(torch.unique(y.detach()).tolist()) == {0.0, 1.0}
    assert torch.equal(y.detach().sum(1), torch.ones(50))
    # The same noise without the straight-through gives the soft sample:
    # its gradient is the one the hard sample passes back.
    gen = torch.Generator().manual_seed(0)
    soft = gumbel_softmax(logits, 0.7, hard=False, generator=gen)
    w = torch.randn(50, 5)
    (g_hard,) = torch.autograd.grad((y * w).sum(), logits)
    (g_soft,) = torch.autograd.grad((soft * w).sum(), logits)
    assert torch.allclose(g_hard, g_soft)
    assert g_hard.abs().sum() > 0
    assert torch.equal(y.detach().argmax(1), soft.detach().argmax(1))


def test_gumbel_choice_frequencies_match_the_softmax():
    logits = torch.tensor([[1.0, 0.0, -1.0, 2.0, -math_inf()]]).expand(40_000, 5)
    gen = torch.Generator().manual_seed(1)
    freq = gumbel_softmax(logits, 5.0, generator=gen).mean(0)
    expected = torch.softmax(logits[0], 0)
    assert torch.allclose(freq, expected, atol=0.01)
    assert freq[4] == 0  # a masked choice is never drawn


def math_inf():
    return float("inf")


# -- aggregations -------------------------------------------------------------

X0 = torch.tensor([[1.0, 1.0]])
NEIGHBORS = torch.tensor([[[2.0, 0.0], [0.0, 3.0], [4.0, 4.0]]])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("min", [[1, 0], [0, 0], [0, 0]]),
        ("max", [[2, 1], [2, 3], [4, 4]]),
        ("sum", [[3, 1], [3, 4], [7, 8]]),
        ("average", [[1.5, 0.5], [1, 4 / 3], [7 / 4, 2]]),
        # Zero weight logits: the weighted average is the plain average.
        ("weighted", [[1.5, 0.5], [1, 4 / 3], [7 / 4, 2]]),
    ],
)
def test_each_aggregation_on_a_2d_example(name, expected):
    out = candidates(
        X0,
        NEIGHBORS,
        [name],
        torch.tensor([0.5]),
        torch.tensor([0.0]),
        torch.zeros(1, 4),
    )
    assert out.shape == (1, 3, 1, 2)
    assert torch.allclose(out[0, :, 0], torch.tensor(expected, dtype=torch.float32))


def test_linear_is_smote_on_the_chosen_neighbour():
    lam = torch.tensor([0.25])
    # u near 1 picks the farthest of the k neighbours, u = 0 the nearest.
    far = candidates(X0, NEIGHBORS, ["linear"], lam, torch.tensor([0.99]))[0, :, 0]
    near = candidates(X0, NEIGHBORS, ["linear"], lam, torch.tensor([0.0]))[0, :, 0]
    expected_far = X0 + 0.25 * (NEIGHBORS[0] - X0)
    assert torch.allclose(far, expected_far)
    assert torch.allclose(near, (X0 + 0.25 * (NEIGHBORS[0, 0] - X0)).expand(3, 2))


def test_weighted_follows_its_weights():
    logits = torch.tensor([[0.0, 50.0, 0.0, 0.0]])  # all weight on the 1st neighbour
    lam, u = torch.zeros(1), torch.zeros(1)
    out = candidates(X0, NEIGHBORS, ["weighted"], lam, u, logits)[0, :, 0]
    assert torch.allclose(out, torch.tensor([[2.0, 0.0]] * 3), atol=1e-5)


@pytest.mark.parametrize("n", [0, 1, 40])
def test_chosen_candidates_are_the_einsum_over_all_candidates(n):
    # The value is the chosen candidate; the gradients (of the k and
    # aggregation logits, and of the weight logits) are those of the
    # contraction of the one-hot draws with the full (n, K, A, d) tensor.
    g = torch.Generator().manual_seed(0)
    K, A, d = 4, len(AGGREGATIONS), 3
    x, nb = torch.randn(n, d, generator=g), torch.randn(n, K, d, generator=g)
    lam, u = torch.rand(n, generator=g), torch.rand(n, generator=g)
    lk, la, lw = (torch.randn(n, m, generator=g) for m in (K, A, K + 1))
    target = torch.randn(n, d, generator=g)
    noise = torch.Generator().manual_seed(1).get_state()

    def run(full):
        leaves = [t.clone().requires_grad_() for t in (lk, la, lw)]
        g.set_state(noise)
        yk = gumbel_softmax(leaves[0], 0.7, generator=g)
        ya = gumbel_softmax(leaves[1], 0.7, generator=g)
        if full:
            cand = candidates(x, nb, AGGREGATIONS, lam, u, leaves[2])
            z = torch.einsum("nk,na,nkad->nd", yk, ya, cand)
        else:
            z = chosen_candidates(x, nb, AGGREGATIONS, lam, u, leaves[2], yk, ya)
        ((z - target) ** 2).sum().backward()
        grads = [t.grad if t.grad is not None else torch.zeros_like(t) for t in leaves]
        return z.detach(), grads, yk.detach().argmax(1), ya.detach().argmax(1)

    z_full, grads_full, k, a = run(True)
    z, grads, _, _ = run(False)
    rows = torch.arange(n)
    picked = candidates(x, nb, AGGREGATIONS, lam, u, lw)[rows, k, a]
    torch.testing.assert_close(z, picked, rtol=0, atol=0)
    torch.testing.assert_close(z, z_full)
    for got, want in zip(grads, grads_full, strict=True):
        torch.testing.assert_close(got, want)
    if n > 1:
        assert all(gr.abs().sum() > 0 for gr in grads)


# -- neighbours ---------------------------------------------------------------


def test_no_neighbour_from_another_class(data):
    X, y = data
    neighbors, n_neighbors = class_neighbors(X, y, 6)
    valid = neighbors >= 0
    assert valid.all()
    assert (y[neighbors] == y[:, None]).all()
    assert (neighbors != np.arange(len(y))[:, None]).all()

    clf = tiny(k_max=3).fit(X, y)
    seeds = clf.seed_classes_
    assert set(np.unique(seeds)) == {1, 2}  # the majority class is not oversampled
    assert (seeds[clf.neighbors_] == seeds[:, None]).all()


def test_small_class_masks_infeasible_k():
    y = np.array([0] * 10 + [1] * 3)
    X = np.random.RandomState(0).normal(size=(13, 2))
    neighbors, n_neighbors = class_neighbors(X, y, 4)
    assert (n_neighbors[y == 1] == 2).all()
    assert (neighbors[y == 1][:, 2:] == -1).all()


# -- gradients ----------------------------------------------------------------


@pytest.mark.parametrize("variant", ["self", "cohort"])
def test_every_decision_parameter_gets_a_gradient(variant):
    rng = torch.Generator().manual_seed(0)
    n, d, K = 400, 3, 4
    X = torch.randn(n, d, generator=rng)
    c = torch.randint(0, 2, (n,), generator=rng)
    nets = DecisionNets(
        d,
        2,
        variant=variant,
        n_cohorts=3,
        k_max=K,
        n_aggregations=len(AGGREGATIONS),
        weighted=True,
        hidden_units=(8,),
    )
    classifier = torch.nn.Linear(d, 2)
    nb = X[torch.randint(0, n, (n, K), generator=rng)]
    mask = torch.ones(n, K, dtype=torch.bool)
    z, dec = synthesize(
        nets, AGGREGATIONS, X, c, nb, torch.full((n,), K), mask, 1.0, generator=rng
    )
    o = dec["draw_participation"]
    per_row = torch.nn.functional.cross_entropy(classifier(z), c, reduction="none")
    ((o * per_row).sum() / (1 + o.sum())).backward()
    for name, param in nets.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_one_cohort_shares_one_decision_distribution(data):
    X, y = data
    clf = tiny(n_cohorts=1).fit(X, y)
    for dist in clf.decision_distributions_.values():
        assert np.allclose(dist, dist[0])
    assert (clf.cohort_assignments_ == 0).all()


# -- the classifier -----------------------------------------------------------


@pytest.mark.parametrize("variant", ["self", "cohort"])
def test_history_records_participation_and_entropies(data, variant):
    X, y = data
    clf = tiny(variant=variant, temperature_schedule="exponential").fit(X, y)
    keys = ["participation", "entropy_participation", "entropy_k"]
    keys += ["entropy_aggregation", "temperature"]
    keys += ["entropy_cohort"] if variant == "cohort" else []
    rows = clf.history_[:, keys]
    assert len(rows) == 3
    for row in rows:
        assert 0 <= row[0] <= 1
        assert all(v >= 0 for v in row[1:])
    assert clf.history_[:, "temperature"] == pytest.approx([1.0, 0.5**0.5, 0.5])
    assert clf.decision_distributions_["k"].shape == (len(clf.seed_classes_), 6)
    assert np.allclose(clf.decision_distributions_["aggregation"].sum(1), 1)
    assert (clf.cohort_assignments_ is None) == (variant == "self")


def test_participation_floor_forces_every_seed_in(data):
    X, y = data
    clf = tiny(min_participation=1.0).fit(X, y)
    assert clf.history_[:, "participation"] == [1.0, 1.0, 1.0]


def test_fit_is_reproducible_and_pickles_without_training_rows(data):
    X, y = data
    a = tiny().fit(X, y)
    b = tiny().fit(X, y)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_[:, "train_loss"] == b.history_[:, "train_loss"]
    assert a.net_.pool is None
    c = pickle.loads(pickle.dumps(a))
    assert np.array_equal(c.predict_proba(X), a.predict_proba(X))


def test_balanced_data_trains_without_synthetic_rows():
    X, _ = make_classification(n_samples=100, random_state=0)
    y = np.repeat([0, 1], 50)
    clf = tiny().fit(X, y)
    assert not any(clf.sampling_strategy_.values())
    assert np.isnan(clf.history_[-1, "participation"])


# -- errors -------------------------------------------------------------------


def test_small_class_warns_that_large_k_are_masked():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(44, 2))
    y = np.array([0] * 40 + [1] * 4)
    with pytest.warns(UserWarning, match="fewer than k_max"):
        tiny(k_max=6, validation_fraction=0.1).fit(X, y)


@pytest.mark.parametrize("temperature", [0, -1.0])
def test_temperature_must_be_positive(data, temperature):
    X, y = data
    with pytest.raises(ValueError, match="'temperature' parameter .* range"):
        tiny(temperature=temperature).fit(X, y)


def test_unknown_aggregation(data):
    X, y = data
    with pytest.raises(ValueError, match=r"unknown names \['median'\]"):
        tiny(aggregations=("linear", "median")).fit(X, y)
    with pytest.raises(ValueError, match="is empty"):
        tiny(aggregations=()).fit(X, y)


def test_decision_distributions_of_new_rows(data):
    X, y = data
    clf = tiny(variant="self").fit(X, y)
    mask = torch.ones(5, 6, dtype=torch.bool)
    dists, cohorts = decision_distributions(
        clf.net_.generator_,
        torch.tensor(X[:5], dtype=torch.float32),
        torch.tensor(y[:5]),
        mask,
    )
    assert cohorts is None
    assert dists["k"].shape == (5, 6)


@pytest.mark.parametrize("objective", ["joint", "bilevel"])
@pytest.mark.parametrize("variant", ["self", "cohort"])
def test_training_step_reaches_every_decision_parameter(data, objective, variant):
    # The gradients of the last step are still on the parameters after fit.
    X, y = data
    clf = tiny(variant=variant, objective=objective, batch_size=256, max_epochs=2)
    clf.fit(X, y)
    for name, param in clf.net_.generator_.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert clf.net_.valid is None and clf.net_.pool is None


def test_unknown_objective(data):
    X, y = data
    with pytest.raises(ValueError, match="'objective' parameter"):
        tiny(objective="adversarial").fit(X, y)


# -- sample weights, warm start -----------------------------------------


def test_weighted_seeds_and_budgets(data):
    X, y = data
    keep = np.arange(len(y)) % 4 != 0
    w = keep * np.where(y == 2, 3.0, 1.0)
    clf = tiny(objective="bilevel").fit(X, y, sample_weight=w)
    plain = tiny(objective="bilevel").fit(X, y)
    # Rows of weight 0 are neither seeds nor neighbours: about a quarter fewer.
    n_seeds, n_plain = len(clf.seed_classes_), len(plain.seed_classes_)
    assert 0.65 * n_plain < n_seeds < 0.85 * n_plain
    assert clf.neighbors_.max() < n_seeds
    # Class 2 weighs 3 per row: the strategy reads it as three times its rows.
    assert clf.sampling_strategy_[2] < plain.sampling_strategy_[2]
    assert np.isfinite(clf.history_[:, "valid_loss"]).all()


def test_warm_start_restores_the_decision_networks(data):
    X, y = data
    # decision_lr set in both fits: the optimiser keeps its two groups.
    clf = tiny(warm_start=True, decision_lr=1e-3).fit(X, y)
    generator = {k: v.clone() for k, v in clf.net_.generator_.state_dict().items()}
    module = {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}
    steps = clf.net_.optimizer_.state_dict()["state"][0]["step"].item()
    # A learning rate too small to move anything: both networks go on from
    # where the first fit left them.
    clf.set_params(lr=1e-12, decision_lr=1e-12, max_epochs=2).fit(X, y)
    for before, now in ((generator, clf.net_.generator_), (module, clf.net_.module_)):
        for key, value in now.state_dict().items():
            torch.testing.assert_close(value, before[key], atol=1e-6, rtol=0)
    assert clf.n_iter_ == len(clf.history_) == 5
    assert clf.net_.optimizer_.state_dict()["state"][0]["step"].item() > steps
    fresh = clone(clf).set_params(warm_start=False).fit(X, y)
    moved = fresh.net_.generator_.state_dict()
    assert any(not torch.allclose(moved[k], generator[k]) for k in generator)
    with pytest.raises(ValueError, match="network of another shape"):
        clf.set_params(k_max=2).fit(X, y)


# -- the anchor at SMOTE's decisions ----------------------------------------


def smote_point_probabilities(clf):
    """Mean probability of each of SMOTE's choices (take part, k=5, linear)."""
    d = clf.decision_distributions_
    linear = list(clf.aggregations).index("linear")
    return (
        d["participation"].mean(),
        d["k"][:, 4].mean(),
        d["aggregation"][:, linear].mean(),
    )


@pytest.mark.parametrize("objective", ["joint", "bilevel"])
def test_large_anchor_pulls_the_decisions_to_smote(data, objective):
    X, y = data
    # The decision networks at the paper's rate: at the default lr=1e-3 they
    # barely move in 15 epochs.
    free = tiny(objective=objective, max_epochs=15, anchor=0.0, decision_lr=0.05)
    free.fit(X, y)
    pulled = tiny(objective=objective, max_epochs=15, anchor=10.0, decision_lr=0.05)
    pulled.fit(X, y)
    d = pulled.decision_distributions_
    # Every seed's most probable choices are SMOTE's (k_max=6, so k=5).
    assert (d["k"].argmax(1) == 4).all()
    assert (
        d["aggregation"].argmax(1) == list(pulled.aggregations).index("linear")
    ).all()
    assert d["participation"].min() > 0.8
    # ... and closer to each of them than without the anchor, on the same data
    # and seed (participation is high without it too under the joint objective).
    free, pulled = smote_point_probabilities(free), smote_point_probabilities(pulled)
    assert all(p_pulled > p_free for p_free, p_pulled in zip(free, pulled))
    assert sum(pulled) > sum(free) + 0.15


def test_default_anchor_is_the_chosen_one_and_pulls(data):
    # 3, chosen on validation folds of the selection sets (issue 23).
    X, y = data
    default, zero = tiny(), tiny(anchor=0.0)
    assert default.get_params()["anchor"] == 3.0
    default.fit(X, y)
    zero.fit(X, y)
    assert not all(
        np.array_equal(p, zero.decision_distributions_[name])
        for name, p in default.decision_distributions_.items()
    )


def test_anchor_zero_computes_no_penalty(data, monkeypatch):
    # anchor=0 trains as before the anchor existed: the penalty is never built.
    import skart._autosmote._net as net

    def refuse(*args, **kwargs):
        raise AssertionError("anchor_penalty called with anchor=0")

    X, y = data
    reference = tiny(anchor=0.0).fit(X, y)
    monkeypatch.setattr(net, "anchor_penalty", refuse)
    again = tiny(anchor=0.0).fit(X, y)
    assert np.array_equal(reference.predict_proba(X), again.predict_proba(X))


def test_anchor_targets_the_largest_feasible_k_below_five():
    # Class 1 has 4 rows (fewer in the training fold): at most 3 neighbours
    # each, so SMOTE's k is a seed's neighbour count, not 5.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(44, 3))
    y = np.r_[np.zeros(40, int), np.ones(4, int)]
    with pytest.warns(UserWarning, match="fewer than k_max"):
        clf = tiny(max_epochs=15, anchor=10.0, batch_size=16, decision_lr=0.05)
        clf.fit(X, y)
    minority = clf.seed_classes_ == 1
    k = clf.decision_distributions_["k"][minority]
    feasible = (clf.neighbors_[minority] >= 0).sum(1)
    assert (feasible < 5).all()
    assert (k.argmax(1) == feasible - 1).all()
    assert (k[np.arange(6)[None] >= feasible[:, None]] == 0).all()


def test_anchor_without_linear_pulls_participation_and_k_only(data):
    X, y = data
    clf = tiny(
        max_epochs=15, anchor=10.0, aggregations=("min", "max"), decision_lr=0.05
    )
    clf.fit(X, y)
    assert (clf.decision_distributions_["k"].argmax(1) == 4).all()


def test_negative_anchor_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="'anchor' parameter .* range"):
        tiny(anchor=-0.1).fit(X, y)


def test_sampler_passes_the_anchor_through(data):
    from skart.over_sampling import AutoSMOTE

    X, y = data
    estimator = tiny(max_epochs=15, anchor=10.0, decision_lr=0.05)
    sampler = AutoSMOTE(estimator=estimator, random_state=0)
    sampler.fit_resample(X, y)
    assert sampler.estimator_.anchor == 10.0
    assert (sampler.decision_distributions_["k"].argmax(1) == 4).all()
    assert np.mean(sampler.synthetic_decisions_["aggregation"] == "linear") > 0.5


# -- decision_lr: the decision networks' own learning rate ------------------


def test_decision_networks_have_their_own_learning_rate(data):
    X, y = data
    clf = tiny(lr=0.002, decision_lr=0.04, lr_schedule=None).fit(X, y)
    groups = clf.net_.optimizer_.param_groups
    # The classifier's group first (the bilevel look-ahead steps at its rate).
    assert [g["lr"] for g in groups] == [0.002, 0.04]
    assert {id(p) for p in groups[0]["params"]} == {
        id(p) for p in clf.net_.module_.parameters()
    }
    assert {id(p) for p in groups[1]["params"]} == {
        id(p) for p in clf.net_.generator_.parameters()
    }
    single = tiny(decision_lr=None).fit(X, y).net_.optimizer_.param_groups
    assert len(single) == 1


def test_decision_lr_equal_to_lr_is_one_rate(data):
    # Two groups at one rate train as one group: Adam's steps are per parameter.
    X, y = data
    one = tiny(decision_lr=None).fit(X, y)
    two = tiny(decision_lr=one.lr).fit(X, y)
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))


def test_warm_start_keeps_the_decision_learning_rate(data):
    X, y = data
    clf = tiny(warm_start=True, decision_lr=0.03).fit(X, y)
    clf.set_params(max_epochs=1, lr_schedule=None).fit(X, y)
    assert [g["lr"] for g in clf.net_.optimizer_.param_groups] == [clf.lr, 0.03]


def test_non_positive_decision_lr_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="'decision_lr' parameter"):
        tiny(decision_lr=0.0).fit(X, y)


def test_training_defaults_are_the_shared_ones():
    # Chosen over the paper's training on validation folds (issue 23): the
    # network trains as a SMOTE pipeline's ARTClassifier does.
    from skart import ARTClassifier, AutoSMOTEClassifier

    names = ("optimizer", "lr", "max_epochs", "patience", "lr_schedule", "batch_size")
    art, auto = ARTClassifier().get_params(), AutoSMOTEClassifier().get_params()
    assert {n: auto[n] for n in names} == {n: art[n] for n in names}
    assert auto["decision_lr"] is None
