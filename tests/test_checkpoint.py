"""checkpoint=DIR: resuming a fit killed mid-way gives bitwise the uninterrupted model."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from skorch.callbacks import Callback

from skart import (
    ARTClassifier,
    AutoSMOTEClassifier,
    Checkpoint,
    DecoupledClassifier,
    EGAClassifier,
)
from skart._nn._checkpoint import FILE

# Each case: the estimator (as code run in a child process) and the epoch at
# whose end the child kills itself. The ART case stops early (patience) on a
# cosine schedule: the kill comes before the stop, so early stopping's
# counters and best weights must survive it.
CASES = {
    "art": (
        "ARTClassifier(max_epochs=40, patience=3, lr=1e-2, lr_schedule='cosine', "
        "random_state=0)",
        8,  # best epoch 7, one miss: it stops at 10, restoring epoch 7
    ),
    "ega_phase1": (
        "EGAClassifier(pretrain_epochs=4, max_epochs=4, random_state=0)",
        2,
    ),
    "ega_phase2": (
        "EGAClassifier(pretrain_epochs=4, max_epochs=4, random_state=0)",
        6,
    ),
    "autosmote": ("AutoSMOTEClassifier(max_epochs=6, random_state=0)", 3),
    "crt_stage1": (
        "DecoupledClassifier(method='crt', max_epochs=4, crt_epochs=4, random_state=0)",
        2,
    ),
    "crt_stage2": (
        "DecoupledClassifier(method='crt', max_epochs=4, crt_epochs=4, random_state=0)",
        6,
    ),
    "tau_norm": ("DecoupledClassifier(max_epochs=5, random_state=0)", 3),
}

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from sklearn.datasets import make_classification
    from skorch.callbacks import Callback
    from skart import *

    class KillAt(Callback):
        def __init__(self, epoch):
            self.epoch = epoch
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == self.epoch:
                os.kill(os.getpid(), signal.SIGKILL)

    X, y = make_classification(
        n_samples=600, n_features=8, n_informative=4, n_classes=3,
        weights=[0.8, 0.15], random_state=0,
    )
    mode, directory, out = sys.argv[1], sys.argv[2], sys.argv[3]
    make = lambda: {estimator}
    if mode == "kill":
        make().set_params(checkpoint=directory, callbacks=[KillAt({epoch})]).fit(X, y)
        sys.exit(3)  # not reached: killed at the end of epoch {epoch}
    reference = make().fit(X, y)
    resumed = make().set_params(checkpoint=directory).fit(X, y)
    for name, est in (("reference", reference), ("resumed", resumed)):
        np.save(os.path.join(out, name + "_proba.npy"), est.predict_proba(X))
        np.save(
            os.path.join(out, name + "_loss.npy"),
            np.array([[h["train_loss"], h["valid_loss"]] for h in est.history_]),
        )
    print("left", os.path.exists(os.path.join(directory, {file!r})))
    """
)


def _run(script, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_sigkill_then_resume_is_bitwise_the_uninterrupted_fit(case, tmp_path):
    estimator, epoch = CASES[case]
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(estimator=estimator, epoch=epoch, file=FILE))
    directory = tmp_path / "ckpt"
    killed = _run(script, "kill", directory, tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert os.path.exists(directory / FILE)
    resumed = _run(script, "resume", directory, tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # A successful fit removes its checkpoint (and the directory it created).
    assert "left False" in resumed.stdout
    assert not directory.exists()
    for what in ("proba", "loss"):
        reference = np.load(tmp_path / f"reference_{what}.npy")
        got = np.load(tmp_path / f"resumed_{what}.npy")
        assert reference.shape == got.shape
        # Bitwise: the same bytes, not merely close.
        assert reference.tobytes() == got.tobytes(), what
    if case == "art":  # the case stops early, after the kill
        assert epoch < len(np.load(tmp_path / "reference_loss.npy")) < 40


# -- refusals and the directory's life ------------------------------------------


def _data(seed=0, n=300):
    return make_classification(
        n_samples=n,
        n_features=6,
        n_informative=3,
        weights=[0.8],
        random_state=seed,
    )


class _Crash(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise RuntimeError("crash")


def _crashed(tmp_path, **params):
    X, y = _data()
    directory = tmp_path / "ckpt"
    clf = ARTClassifier(max_epochs=4, random_state=0, **params)
    with pytest.raises(RuntimeError, match="crash"):
        clf.set_params(checkpoint=directory, callbacks=[_Crash()]).fit(X, y)
    assert (directory / FILE).exists()
    return directory


def test_checkpoint_of_other_data_is_refused(tmp_path):
    directory = _crashed(tmp_path)
    X, y = _data(seed=1)
    clf = ARTClassifier(max_epochs=4, random_state=0, checkpoint=directory)
    with pytest.raises(ValueError, match="other data .*differ in: X, y"):
        clf.fit(X, y)
    X, y = _data()
    with pytest.raises(ValueError, match="other data .*sample_weight"):
        clf.fit(X, y, sample_weight=np.arange(len(y)) % 3 + 1.0)


def test_checkpoint_of_other_parameters_is_refused(tmp_path):
    directory = _crashed(tmp_path)
    X, y = _data()
    clf = ARTClassifier(max_epochs=5, random_state=0, checkpoint=directory)
    with pytest.raises(ValueError, match=r"other parameters: max_epochs=4 \(here 5\)"):
        clf.fit(X, y)
    other = EGAClassifier(max_epochs=4, random_state=0, checkpoint=directory)
    with pytest.raises(ValueError, match="written by a ARTClassifier fit"):
        other.fit(X, y)
    # Callbacks and verbose may differ: the same fit resumes.
    ARTClassifier(max_epochs=4, random_state=0, checkpoint=directory).fit(X, y)


def test_unreadable_checkpoint_is_refused(tmp_path):
    directory = tmp_path / "ckpt"
    directory.mkdir()
    (directory / FILE).write_bytes(b"not a checkpoint")
    X, y = _data()
    clf = ARTClassifier(max_epochs=2, checkpoint=directory)
    with pytest.raises(ValueError, match="not a readable skart checkpoint"):
        clf.fit(X, y)


def test_random_state_none_resumes_from_the_saved_stream(tmp_path):
    # The resumed fit draws the split and seed from the state the crashed
    # fit started from: the resumed model is the one that fit would have given.
    X, y = _data()
    directory = tmp_path / "ckpt"
    np.random.seed(3)  # noqa: NPY002 (random_state=None draws from it)
    clf = ARTClassifier(max_epochs=4, random_state=None, checkpoint=directory)
    with pytest.raises(RuntimeError):
        clone(clf).set_params(callbacks=[_Crash()]).fit(X, y)
    resumed = clone(clf).fit(X, y)
    np.random.seed(3)  # noqa: NPY002 (random_state=None draws from it)
    reference = ARTClassifier(max_epochs=4, random_state=None).fit(X, y)
    np.testing.assert_array_equal(resumed.predict_proba(X), reference.predict_proba(X))


def test_keep_keeps_the_checkpoint_and_a_refit_loads_it(tmp_path):
    X, y = _data()
    directory = tmp_path / "ckpt"
    keep = Checkpoint(directory, keep=True)
    clf = ARTClassifier(max_epochs=3, random_state=0, checkpoint=keep).fit(X, y)
    assert (directory / FILE).exists()
    again = ARTClassifier(max_epochs=3, random_state=0, checkpoint=keep)
    again.set_params(callbacks=[_Crash()])  # would fail if it trained
    again.fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert len(again.history_) == 3


def test_default_removes_only_its_own_files(tmp_path):
    X, y = _data()
    (tmp_path / "mine.txt").write_text("x")
    ARTClassifier(max_epochs=2, random_state=0, checkpoint=str(tmp_path)).fit(X, y)
    assert sorted(os.listdir(tmp_path)) == ["mine.txt"]


def test_checkpoint_is_a_plain_parameter(tmp_path):
    keep = Checkpoint(tmp_path, keep=True)
    for est in (
        ARTClassifier(checkpoint=keep),
        EGAClassifier(checkpoint=keep),
        AutoSMOTEClassifier(checkpoint=keep),
        DecoupledClassifier(checkpoint=keep),
    ):
        assert est.get_params()["checkpoint"] is keep
        assert clone(est).get_params()["checkpoint"] == keep
    assert repr(keep) == f"Checkpoint({str(tmp_path)!r}, keep=True)"
    with pytest.raises(ValueError, match="checkpoint"):
        ARTClassifier(checkpoint=3).fit(*_data())


def test_saved_model_of_a_checkpointed_fit_loads(tmp_path):
    from skart import load_fitted

    X, y = _data()
    clf = ARTClassifier(
        max_epochs=2, random_state=0, checkpoint=Checkpoint(tmp_path / "c")
    )
    clf.fit(X, y)
    clf.save_fitted(tmp_path / "model.pt")
    loaded = load_fitted(tmp_path / "model.pt")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
