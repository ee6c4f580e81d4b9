"""
========================================================
Text: sparse TF-IDF features of imbalanced movie reviews
========================================================

:class:`~skart.ARTClassifier` accepts sparse CSR matrices: the training data
stay sparse in memory and each minibatch is densified on its own. This
example classifies IMDb movie reviews by sentiment from TF-IDF features,
with the positive reviews made rare (1 for 10 negatives), and compares ART
with the same network without ART and with a class-weighted logistic
regression.

:func:`skart.datasets.fetch_imdb` reads the reviews from the ``imdb`` folder
of the data home (``$SKART_DATA``, or ``~/skart_data`` where the archive is
downloaded on first use).
"""

# %%
# An imbalanced sample of reviews
# -------------------------------
# 3000 negative and 300 positive reviews for training, 2000 and 200 for
# testing, drawn from IMDb's train and test splits (which share no movie).
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support

from skart import ARTClassifier, ClassScoresDisplay
from skart.datasets import fetch_imdb

rng = np.random.RandomState(0)


def imbalanced_sample(bunch, n_negative, n_positive):
    """Texts and labels of ``n_negative`` and ``n_positive`` random reviews."""
    negative = rng.choice(np.flatnonzero(bunch.target == 0), n_negative, replace=False)
    positive = rng.choice(np.flatnonzero(bunch.target == 1), n_positive, replace=False)
    idx = np.concatenate([negative, positive])
    return [bunch.data[i] for i in idx], bunch.target[idx]


texts_train, y_train = imbalanced_sample(fetch_imdb(subset="train"), 3000, 300)
texts_test, y_test = imbalanced_sample(fetch_imdb(subset="test"), 2000, 200)

# %%
# TF-IDF features
# ---------------
# The vectoriser is fitted on the training reviews only. The result is a
# ``scipy.sparse`` CSR matrix with under 1 % of its entries non-zero.
vectorizer = TfidfVectorizer(
    max_features=10_000, min_df=2, sublinear_tf=True, stop_words="english"
)
X_train = vectorizer.fit_transform(texts_train)
X_test = vectorizer.transform(texts_test)
print(
    f"{X_train.shape[0]} reviews x {X_train.shape[1]} terms, "
    f"{X_train.nnz / np.prod(X_train.shape):.2%} non-zero"
)

# %%
# Models
# ------
# A one-hidden-layer network with dropout, with and without ART, three seeds
# each, and a logistic regression whose classes are weighted by inverse
# frequency (``class_weight="balanced"``). The scores are the F1 of the rare
# positive class and the macro-F1.
net = {"module__hidden_units": (64,), "module__dropout": 0.3, "lr": 1e-2}
rows = []
for seed in range(3):
    for name, art in [("MLP + ART", True), ("MLP", False)]:
        clf = ARTClassifier(art=art, random_state=seed, **net).fit(X_train, y_train)
        y_pred = clf.predict(X_test)
        rows.append(
            {
                "model": name,
                "seed": seed,
                "F1 (positive)": f1_score(y_test, y_pred),
                "macro-F1": f1_score(y_test, y_pred, average="macro"),
            }
        )
        if art and seed == 0:
            art_clf = clf
logreg = LogisticRegression(class_weight="balanced", C=10, max_iter=1000)
y_pred = logreg.fit(X_train, y_train).predict(X_test)
rows.append(
    {
        "model": "balanced logistic regression",
        "seed": 0,
        "F1 (positive)": f1_score(y_test, y_pred),
        "macro-F1": f1_score(y_test, y_pred, average="macro"),
    }
)
results = pd.DataFrame(rows)
results.drop(columns="seed").groupby("model", sort=False).agg(["mean", "std"]).round(3)

# %%
# Precision and recall of the positive class show where the networks differ:
# without ART the network rarely predicts the rare class at all.
p, r, _, _ = precision_recall_fscore_support(
    y_test, art_clf.predict(X_test), labels=[1], zero_division=0
)
print(f"MLP + ART (seed 0): precision {p[0]:.2f}, recall {r[0]:.2f} on positives")

# %%
# The validation F1 of the two classes during ART's training, with their
# shares of the training fold dashed:
ClassScoresDisplay.from_estimator(art_clf)
plt.show()

# %%
# Reading the results
# -------------------
# Without ART, the network never predicts the rare class. With ART it finds
# part of the positive reviews, with a large spread between seeds. Both
# networks over-fit the 10000 TF-IDF features within a few epochs, and early
# stopping, which watches the validation loss (dominated by the 10-to-1
# majority), restores the weights of one of the first epochs. To let early
# stopping follow the classes' scores instead, monitor the mean per-class
# score that ART records: ``patience=None`` and
# ``callbacks=[EarlyStopping(monitor="valid_f1", lower_is_better=False,
# load_best=True)]`` (skorch's ``EarlyStopping``).
#
# The class-weighted linear model is the strongest of the three here,
# as it often is on TF-IDF features of a few thousand documents: a network
# (with or without ART) pays off with more data or better features. ART is
# a way to train networks; for a linear model, class weights do the job
# directly.
#
# Sentence embeddings
# -------------------
# Dense sentence embeddings are better features for a network than TF-IDF.
# The ART paper's text benchmark, IMDb-Custom, embeds each review with the
# ``all-MiniLM-L6-v2`` encoder; :func:`skart.datasets.fetch_imdb_embeddings`
# builds it (the encoder is a heavy optional dependency,
# ``pip install skart[text]``, so this gallery does not run it):
#
# .. code-block:: python
#
#    from skart.datasets import fetch_imdb_embeddings
#
#    # 25000 negatives and 3571 positives (ratio 7), 384-d unit vectors;
#    # computed once, then read from a cache in the data home.
#    X, y = fetch_imdb_embeddings(imbalance_ratio=7, return_X_y=True)
#    clf = ARTClassifier(module__hidden_units=(256, 128), device="cuda").fit(X, y)
#
# Any other encoder works the same way: compute the embeddings once (for
# example with ``sentence_transformers.SentenceTransformer.encode``) and
# train :class:`~skart.ARTClassifier` on the resulting dense array.
