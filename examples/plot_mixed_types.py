"""
=====================================================
Mixed-type tables: encoding columns in front of ART
=====================================================

skart's estimators train neural networks on numbers. A table with
categorical or text columns (a merchant category, a country) must be encoded
first, and :class:`~skart.ARTClassifier` says so, naming the columns, if it is
given such a DataFrame. The scikit-learn way is a
:class:`~sklearn.compose.ColumnTransformer` in a pipeline: the encoders are
fitted on the training folds only, and the pipeline is one estimator for
cross-validation, grid search and pickling.

The table here is synthetic, a stand-in for a card-fraud log: an amount, the
hour, a merchant category and a country, with about 4% fraud.
"""

# %%
# A mixed-type table
# ------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skart import ARTClassifier

rng = np.random.default_rng(0)
n = 3000
merchant = rng.choice(
    ["grocery", "travel", "online", "fuel"], n, p=[0.4, 0.1, 0.3, 0.2]
)
country = rng.choice(["FR", "NL", "DE", "other"], n, p=[0.4, 0.3, 0.2, 0.1])
amount = rng.lognormal(3.5, 1.0, n)
hour = rng.integers(0, 24, n)
# Fraud is likelier online, abroad, at night and for large amounts.
logit = (
    -5.0
    + 1.5 * (merchant == "online")
    + 1.2 * (country == "other")
    + 1.0 * ((hour < 6) | (hour > 22))
    + 0.6 * (np.log(amount) - 3.5)
)
fraud = rng.random(n) < 1 / (1 + np.exp(-logit))
X = pd.DataFrame(
    {
        "amount": amount,
        "hour": hour,
        "merchant": pd.Categorical(merchant),
        "country": country,
    }
)
y = np.where(fraud, "fraud", "ok")
print(X.dtypes.to_string(), f"\nfraud rate: {fraud.mean():.3f}")

# %%
# Given as it is, the DataFrame is refused with the names of the columns to
# encode:
try:
    ARTClassifier().fit(X, y)
except ValueError as err:
    print(err)

# %%
# The recipe: one-hot encode the categories, scale the numbers
# -------------------------------------------------------------
encode = make_column_transformer(
    (OneHotEncoder(handle_unknown="ignore"), ["merchant", "country"]),
    remainder=StandardScaler(),
)
model = make_pipeline(encode, ARTClassifier(max_epochs=40, random_state=0))
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
model.fit(X_train, y_train)

fig, ax = plt.subplots(figsize=(4, 3.5))
ConfusionMatrixDisplay.from_estimator(model, X_test, y_test, ax=ax, colorbar=False)
ax.set_title("ART behind a ColumnTransformer")
fig.tight_layout()

# %%
# ``OrdinalEncoder`` is the choice for ordered categories (a risk grade), and
# ``TargetEncoder`` for categories with many levels (a merchant id).
