import numpy as np
import pytest

from skart import art_distribution, difficulty_weights
from skart._art._update import smooth_scores


def test_paper_blend_example():
    # c = 0.8, prior 0.5, w 0.1 -> 0.8 * 0.5 + 0.2 * 0.1 = 0.42
    prior = np.array([0.5, 0.3, 0.2])
    scores = np.array([0.9, 0.5, 0.6])  # s = (0.1, 0.5, 0.4), sum 1 -> w = s
    p = art_distribution(scores, prior, c=0.8)
    assert p[0] == pytest.approx(0.42)
    np.testing.assert_allclose(p, 0.8 * prior + 0.2 * np.array([0.1, 0.5, 0.4]))


def test_weights_are_normalised_difficulties():
    f = np.array([0.2, 0.5, 0.9, 1.0])
    s = 1 - f
    np.testing.assert_allclose(difficulty_weights(f), s / s.sum())


def test_all_perfect_gives_uniform():
    np.testing.assert_allclose(difficulty_weights([1.0, 1.0, 1.0]), np.full(3, 1 / 3))


def test_no_scores_gives_uniform_w():
    prior = np.array([0.9, 0.1])
    np.testing.assert_allclose(art_distribution(None, prior, c=0.0), [0.5, 0.5])
    np.testing.assert_allclose(art_distribution(None, prior, c=1.0), prior)


@pytest.mark.parametrize("c", [0.0, 0.3, 1.0])
def test_distribution_sums_to_one(c):
    rng = np.random.default_rng(0)
    p = art_distribution(rng.random(7), rng.random(7), c=c)
    assert p.sum() == pytest.approx(1.0)
    assert np.all(p >= 0)


def test_c_one_is_the_prior():
    prior = np.array([0.7, 0.2, 0.1])
    np.testing.assert_allclose(art_distribution([0.1, 0.2, 0.3], prior, c=1.0), prior)


def test_unscored_class_gets_mean_difficulty():
    w = difficulty_weights([0.9, 0.5, np.nan])  # s = (0.1, 0.5, mean 0.3)
    np.testing.assert_allclose(w, np.array([0.1, 0.5, 0.3]) / 0.9)


def test_all_unscored_gives_uniform():
    np.testing.assert_allclose(difficulty_weights([np.nan, np.nan]), [0.5, 0.5])


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 class scores for 3 classes"):
        art_distribution([0.5, 0.5], [0.2, 0.3, 0.5], c=0.5)


def test_smooth_lifts_a_class_scored_on_one_row_only():
    # One missed validation row: F1 = 0 is shrunk to smooth * mean / (1 + smooth),
    # while classes with hundreds of rows barely move.
    scores, support = [0.9, 0.7, 0.0], [300, 100, 1]
    out = smooth_scores(scores, support, smooth=1.0)
    mean = np.mean(scores)
    assert out[2] == pytest.approx(mean / 2)
    np.testing.assert_allclose(out[:2], scores[:2], atol=0.01)
    raw = art_distribution(scores, [0.5, 0.3, 0.2], 0.0)
    smoothed = art_distribution(
        scores, [0.5, 0.3, 0.2], 0.0, support=support, smooth=1.0
    )
    assert smoothed[2] < raw[2]  # the tiny class no longer takes the most


def test_smooth_zero_is_the_raw_rule_and_nan_stays_unscored():
    scores = np.array([0.8, np.nan, 0.2])
    np.testing.assert_array_equal(smooth_scores(scores, [5, 0, 2], 0.0), scores)
    out = smooth_scores(scores, [5, 0, 2], 3.0)
    assert np.isnan(out[1])
    assert out[2] == pytest.approx((2 * 0.2 + 3 * 0.5) / 5)
    np.testing.assert_array_equal(
        art_distribution(scores, [0.4, 0.3, 0.3], 0.5, support=[5, 0, 2], smooth=0),
        art_distribution(scores, [0.4, 0.3, 0.3], 0.5),
    )


def test_smooth_needs_the_support():
    with pytest.raises(ValueError, match="needs the support"):
        art_distribution([0.5, 0.2], [0.5, 0.5], 0.5, smooth=1.0)
