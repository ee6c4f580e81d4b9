import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.dataset import ValidSplit

from skart import (
    MLP,
    ARTCallback,
    ARTClassifier,
    ClassDistributionSampler,
    ClassScoresDisplay,
    LossCurveDisplay,
    SamplingDistributionDisplay,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = np.array(["common", "medium", "rare"], dtype=object)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=400,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.7, 0.22],
        random_state=0,
    )
    return X, LABELS[y]


@pytest.fixture(scope="module")
def art_clf(data):
    # No early stopping: exactly 5 epochs, refreshes at the end of 2 and 4.
    clf = ARTClassifier(bf=2, max_epochs=5, patience=None, lr=1e-2, random_state=0)
    return clf.fit(*data)


@pytest.fixture(scope="module")
def plain_clf(data):
    clf = ARTClassifier(art=False, max_epochs=5, patience=3, lr=1e-2, random_state=0)
    return clf.fit(*data)


def _legend_texts(disp):
    return [t.get_text() for t in disp.legend_.get_texts()]


# -- SamplingDistributionDisplay ---------------------------------------------------


def test_sampling_from_estimator_carries_the_history(art_clf):
    disp = SamplingDistributionDisplay.from_estimator(art_clf)
    h = art_clf.history_
    np.testing.assert_array_equal(disp.epochs, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(disp.p, np.array(h[:, "p"]))
    np.testing.assert_array_equal(disp.refresh_epochs, [2, 4])
    assert disp.display_labels == list(LABELS)
    assert isinstance(disp.ax_, matplotlib.axes.Axes)
    assert isinstance(disp.figure_, matplotlib.figure.Figure)
    assert disp.ax_.figure is disp.figure_
    assert len(disp.stack_) == 3
    # legend: classes top to bottom, as the bands are stacked
    assert _legend_texts(disp) == ["rare", "medium", "common"]
    assert disp.ax_.get_ylim() == (0.0, 1.0)


def test_sampling_refresh_lines_between_epochs(art_clf):
    disp = SamplingDistributionDisplay.from_estimator(art_clf)
    xs = sorted(seg[0, 0] for seg in disp.refresh_lines_.get_segments())
    # p changes after the refresh at the end of epochs 2 and 4
    assert xs == [2.5, 4.5]
    p = np.asarray(disp.p)
    np.testing.assert_allclose(p[1], p[0])
    assert not np.allclose(p[2], p[1])


def test_sampling_bands_stack_to_one(art_clf):
    disp = SamplingDistributionDisplay.from_estimator(art_clf)
    top = disp.stack_[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(1.0)


def test_sampling_plot_on_given_axes_with_kwargs(art_clf):
    fig, ax = plt.subplots()
    disp = SamplingDistributionDisplay.from_estimator(
        art_clf,
        ax=ax,
        legend=False,
        stack_kw={"alpha": 0.3},
        refresh_kw={"colors": "k"},
        colors=["r", "g", "b"],
    )
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.legend_ is None and ax.get_legend() is None
    assert disp.stack_[0].get_alpha() == 0.3
    np.testing.assert_allclose(disp.stack_[0].get_facecolor()[0][:3], [1, 0, 0])


def test_from_estimator_takes_a_pipeline(data):
    pipe = make_pipeline(
        StandardScaler(),
        ARTClassifier(bf=2, max_epochs=2, patience=None, random_state=0),
    ).fit(*data)
    for display in (SamplingDistributionDisplay, ClassScoresDisplay, LossCurveDisplay):
        disp = display.from_estimator(pipe)
        np.testing.assert_array_equal(disp.epochs, [1, 2])
    assert disp.figure_ is not None


def test_sampling_needs_art(plain_clf):
    with pytest.raises(ValueError, match="no sampling distribution 'p'.*art=False"):
        SamplingDistributionDisplay.from_estimator(plain_clf)


def test_sampling_classes_must_match(art_clf):
    with pytest.raises(ValueError, match="got 2 class labels for a history with 3 cl"):
        SamplingDistributionDisplay.from_history(art_clf.history_, classes=["a", "b"])


def test_sampling_from_history_of_a_skorch_net():
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=300, p=[0.7, 0.2, 0.1]).astype(np.int64)
    X = (rng.normal(size=(300, 4)) + y[:, None]).astype(np.float32)
    split = ValidSplit(0.2, stratified=True, random_state=0)
    probe = NeuralNetClassifier(MLP, train_split=split)
    train_ds, _ = probe.train_split(probe.get_dataset(X, y), y)
    sampler = ClassDistributionSampler(y[train_ds.indices], random_state=0)
    net = NeuralNetClassifier(
        MLP,
        module__n_features=4,
        module__n_classes=3,
        max_epochs=4,
        lr=1e-2,
        optimizer=torch.optim.Adam,
        iterator_train__sampler=sampler,
        train_split=split,
        callbacks=[ARTCallback(sampler, bf=2)],
        verbose=0,
    ).fit(X, y)
    disp = SamplingDistributionDisplay.from_history(net.history)
    np.testing.assert_allclose(disp.p, np.array(net.history[:, "p"]))
    np.testing.assert_array_equal(disp.refresh_epochs, [2, 4])
    assert disp.display_labels == ["0", "1", "2"]
    scores = ClassScoresDisplay.from_history(net.history, prior=[0.7, 0.2, 0.1])
    assert scores.metric_name == "f1" and len(scores.prior_lines_) == 3
    loss = LossCurveDisplay.from_history(net.history)
    np.testing.assert_allclose(loss.valid_loss, net.history[:, "valid_loss"])


# -- ClassScoresDisplay ---------------------------------------------------------------


def test_class_scores_from_estimator(art_clf):
    disp = ClassScoresDisplay.from_estimator(art_clf)
    scores = np.array(art_clf.history_[:, "class_scores"], dtype=float)
    np.testing.assert_allclose(disp.scores, scores)
    np.testing.assert_array_equal(disp.epochs, [1, 2, 3, 4, 5])
    assert disp.metric_name == "f1"
    assert disp.ax_.get_ylabel() == "Validation F1 per class"
    prior = art_clf.class_counts_ / art_clf.class_counts_.sum()
    np.testing.assert_allclose(disp.prior, prior)
    assert len(disp.lines_) == 3
    for k, line in enumerate(disp.lines_):
        np.testing.assert_allclose(line.get_ydata(), scores[:, k])
        assert line.get_label() == LABELS[k]
        # the prior line of a class has its colour, dashed
        prior_line = disp.prior_lines_[k]
        assert prior_line.get_color() == line.get_color()
        assert prior_line.get_linestyle() == "--"
        assert prior_line.get_ydata()[0] == pytest.approx(prior[k])
    assert _legend_texts(disp) == [*LABELS, "prior share"]


def test_class_scores_without_art_and_callable_metric_name(plain_clf):
    disp = ClassScoresDisplay.from_estimator(plain_clf)
    assert disp.scores.shape == (plain_clf.n_iter_, 3)
    h = [
        {k: v for k, v in row.items() if k != "valid_f1"} | {"valid_fbeta_score": 0.5}
        for row in plain_clf.history_
    ]
    assert ClassScoresDisplay.from_history(h).metric_name == "fbeta_score"


def test_class_scores_nan_leaves_a_gap():
    history = [
        {"epoch": 1, "class_scores": [0.5, float("nan")]},
        {"epoch": 2, "class_scores": [0.6, 0.2]},
    ]
    disp = ClassScoresDisplay.from_history(history, classes=["a", "b"])
    assert disp.prior_lines_ is None and disp.metric_name is None
    assert np.isnan(disp.lines_[1].get_ydata()[0])
    assert disp.ax_.get_ylabel() == "Validation score per class"


def test_class_scores_errors(art_clf):
    with pytest.raises(ValueError, match="no 'class_scores'"):
        ClassScoresDisplay.from_history([{"epoch": 1, "train_loss": 1.0}])
    with pytest.raises(ValueError, match=r"prior has shape \(2,\) but the scores hav"):
        ClassScoresDisplay.from_history(art_clf.history_, prior=[0.5, 0.5])


# -- LossCurveDisplay -----------------------------------------------------------


def test_loss_curve_from_estimator(art_clf):
    disp = LossCurveDisplay.from_estimator(art_clf)
    h = art_clf.history_
    np.testing.assert_allclose(disp.train_loss, h[:, "train_loss"])
    np.testing.assert_allclose(disp.valid_loss, h[:, "valid_loss"])
    np.testing.assert_allclose(disp.train_line_.get_ydata(), h[:, "train_loss"])
    np.testing.assert_allclose(disp.valid_line_.get_ydata(), h[:, "valid_loss"])
    # no early stopping: the epoch of the lowest validation loss
    best = int(np.argmin(h[:, "valid_loss"])) + 1
    assert disp.best_epoch == best
    assert disp.best_marker_.get_xdata()[0] == best
    assert disp.best_marker_.get_ydata()[0] == pytest.approx(h[best - 1, "valid_loss"])


def test_loss_curve_marks_the_restored_epoch(plain_clf):
    disp = LossCurveDisplay.from_estimator(plain_clf)
    stopper = dict(plain_clf.net_.callbacks_)["early_stopping"]
    assert disp.best_epoch == stopper.best_epoch_


def test_loss_curve_from_dataframe_and_without_validation(art_clf):
    df = pd.DataFrame(art_clf.history_)
    disp = LossCurveDisplay.from_history(df, best_epoch=3)
    assert disp.best_marker_.get_xdata()[0] == 3
    train_only = [{"epoch": e, "train_loss": 1.0 / e} for e in (1, 2, 3)]
    disp = LossCurveDisplay.from_history(train_only)
    assert disp.valid_line_ is None and disp.best_marker_ is None


def test_loss_curve_bad_best_epoch(art_clf):
    with pytest.raises(ValueError, match="best_epoch=9 is not one of the epochs 1..5"):
        LossCurveDisplay.from_history(art_clf.history_, best_epoch=9)


# -- shared input checks ---------------------------------------------------------------


@pytest.mark.parametrize(
    "display", [SamplingDistributionDisplay, ClassScoresDisplay, LossCurveDisplay]
)
def test_input_errors(display):
    with pytest.raises(NotFittedError):
        display.from_estimator(ARTClassifier())
    with pytest.raises(ValueError, match="needs a fitted estimator with a training"):
        display.from_estimator(object())
    with pytest.raises(ValueError, match="empty history"):
        display.from_history([])
    with pytest.raises(TypeError, match="expects a skorch History"):
        display.from_history(3)


def test_importing_skart_does_not_import_matplotlib():
    code = "import sys, skart; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
