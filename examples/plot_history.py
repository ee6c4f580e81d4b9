"""
============================
Reading the training history
============================

Everything ART does during training is recorded, epoch by epoch, in the
fitted classifier's ``history_`` (a skorch :class:`~skorch.history.History`):
the losses, the per-class validation scores that drive the update, the class
distribution each epoch's batches were drawn from, and the epochs at which
the distribution was refreshed. This example reads it with skorch's slicing
and with pandas, and saves and reloads it.

The data set is UCI Yeast (10 protein localisation sites, from 463 proteins
down to 5), loaded with :func:`skart.datasets.fetch_yeast`. Like every
``skart.datasets`` loader it reads its files from the folder named by the
``SKART_DATA`` environment variable (default ``~/skart_data``) and downloads
them there on first use.
"""

# %%
# Train ART
# ---------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from skart import ARTClassifier, SamplingDistributionDisplay
from skart.datasets import fetch_yeast

yeast = fetch_yeast()
X = StandardScaler().fit_transform(yeast.data)
y = yeast.target
print(pd.Series(y).value_counts().to_dict())

clf = ARTClassifier(c=0.4, bf=3, lr=3e-3, max_epochs=60, random_state=0).fit(X, y)
print(f"{clf.n_iter_} epochs")

# %%
# skorch's slicing
# ----------------
# ``history_[i]`` is the dict of epoch ``i``; ``history_[:, key]`` is one key
# over all epochs (rows that lack the key are skipped), and ``history_[i, key]``
# one value.
h = clf.history_
print(sorted(k for k in h[-1] if k != "batches"))
print("validation loss of the last 3 epochs:", np.round(h[-3:, "valid_loss"], 3))
print("sampling distribution at the last epoch:", np.round(h[-1, "p"], 3))

# %%
# As a pandas DataFrame
# ---------------------
# ``pd.DataFrame(history_)`` gives one row per epoch; the per-batch records
# (``batches``) are not needed here. ``p`` and ``class_scores`` hold one list
# per epoch, one entry per class in the order of ``classes_``: they expand
# into one column per class.
df = pd.DataFrame(h).drop(columns="batches").set_index("epoch")
p = pd.DataFrame(df["p"].tolist(), index=df.index, columns=clf.classes_)
scores = pd.DataFrame(df["class_scores"].tolist(), index=df.index, columns=clf.classes_)
df[["train_loss", "valid_loss", "valid_f1", "art_refresh", "event_art"]].head(7)

# %%
# With ``bf=3`` the distribution is refreshed at the end of epochs 3, 6, 9,
# ...; ``event_art`` names the class with the largest sampling share after
# each refresh (class index and share), as the epoch table printed with
# ``verbose=1`` does.
refresh_epochs = df.index[df["art_refresh"]]
print("refreshes at the end of epochs", list(refresh_epochs[:5]), "...")
p.loc[refresh_epochs[:5] + 1].round(3)

# %%
# How far does ART move away from the class prior? The total variation
# distance ``0.5 * sum(|p - prior|)`` is the share of the batches that ART
# re-assigns to other classes than plain shuffling would.
prior = pd.Series(clf.class_counts_ / clf.class_counts_.sum(), index=clf.classes_)
tv = 0.5 * (p - prior).abs().sum(axis=1)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
tv.plot(
    ax=ax0,
    drawstyle="steps-mid",
    ylim=(0, 1),
    xlabel="Epoch",
    title="Distance of the sampling distribution from the prior",
)
scores[["ERL", "POX", "VAC", "CYT"]].plot(
    ax=ax1, xlabel="Epoch", ylim=(-0.02, 1.02), title="Validation F1 of a few classes"
)
plt.show()

# %%
# Save and reload
# ---------------
# A skorch history is a list of dicts that holds plain numbers, lists and
# strings, so it round-trips through JSON. The displays read a reloaded
# history (or a DataFrame) as well as the fitted estimator.
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from skorch.history import History  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "history.json"
    h.to_file(path)
    reloaded = History.from_file(path)

# sphinx_gallery_thumbnail_number = 2
disp = SamplingDistributionDisplay.from_history(reloaded, classes=clf.classes_)
disp.ax_.set_title("Yeast: sampling distribution, from the saved history")
plt.show()
