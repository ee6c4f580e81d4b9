"""
====================================================
Tuning ``c`` and ``bf`` with GridSearchCV and Optuna
====================================================

ART has two parameters of its own: ``c`` blends the class prior (``c=1``:
sample by the class frequencies, which is plain shuffling drawn with
replacement) with the difficulty weights (``c=0``: sample by difficulty
alone), and ``bf`` is the number of epochs between two refreshes of the
distribution. Both are ordinary estimator parameters, so scikit-learn's
search tools tune them, together with the network's own parameters
(``lr``, ``module__hidden_units``, ...), and Optuna does too.

The data set is UCI Yeast (10 classes, 463 down to 5 proteins); a quarter is
held out to check the tuned model.
"""

# %%
import matplotlib.pyplot as plt
import optuna
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skart import ARTClassifier
from skart.datasets import fetch_yeast

X, y = fetch_yeast(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)

# %%
# Grid search
# -----------
# In a pipeline, the classifier's parameters are addressed as
# ``<step name>__<parameter>``, here ``artclassifier__c``. The score is the
# macro-averaged F1, which weighs the ten classes equally.
pipe = make_pipeline(
    StandardScaler(), ARTClassifier(lr=3e-3, max_epochs=60, random_state=0)
)
grid = GridSearchCV(
    pipe,
    {"artclassifier__c": [0.0, 0.25, 0.5, 0.75, 1.0], "artclassifier__bf": [1, 2, 5]},
    scoring="f1_macro",
    cv=cv,
).fit(X_train, y_train)
print("best parameters:", grid.best_params_)
print(f"best CV macro-F1: {grid.best_score_:.3f}")

# %%
# The mean cross-validated score of every pair, with its spread over the
# folds:
results = pd.DataFrame(grid.cv_results_)
mean = results.pivot(
    index="param_artclassifier__c",
    columns="param_artclassifier__bf",
    values="mean_test_score",
)
std = results.pivot(
    index="param_artclassifier__c",
    columns="param_artclassifier__bf",
    values="std_test_score",
)

fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
im = ax.imshow(mean.to_numpy(), cmap="viridis", origin="lower", aspect="auto")
middle = (mean.to_numpy().max() + mean.to_numpy().min()) / 2
for i in range(mean.shape[0]):
    for j in range(mean.shape[1]):
        ax.text(
            j,
            i,
            f"{mean.iat[i, j]:.3f}\n±{std.iat[i, j]:.3f}",
            ha="center",
            va="center",
            fontsize="small",
            color="k" if mean.iat[i, j] > middle else "w",
        )
ax.set_xticks(range(mean.shape[1]), mean.columns)
ax.set_yticks(range(mean.shape[0]), mean.index)
ax.set(xlabel="bf", ylabel="c", title="Yeast: CV macro-F1")
fig.colorbar(im, ax=ax)
plt.show()

# %%
# Two things to read here. First, ``c=1`` (no re-weighting) is a fair
# baseline inside the grid; its row does not depend on ``bf``, since the
# scores are then ignored. Second, the spread over three folds is of the
# same order as the differences between neighbouring cells: on small data,
# prefer a coarse grid, more folds or repeated CV over a fine grid.
#
# Optuna
# ------
# A random or Bayesian search explores continuous ranges and several
# parameters at once with fewer fits. Optuna's TPE sampler proposes ``c``,
# ``bf``, the learning rate and the width of the network; each trial is
# scored by the same cross-validation. Only 15 trials are run here to keep
# the example fast: use more in practice.
optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    clf = ARTClassifier(
        c=trial.suggest_float("c", 0.0, 1.0),
        bf=trial.suggest_int("bf", 1, 5),
        lr=trial.suggest_float("lr", 1e-3, 3e-2, log=True),
        module__hidden_units=(trial.suggest_categorical("width", [32, 64, 128]),) * 2,
        max_epochs=60,
        random_state=0,
    )
    model = make_pipeline(StandardScaler(), clf)
    return cross_val_score(model, X_train, y_train, cv=cv, scoring="f1_macro").mean()


study = optuna.create_study(
    direction="maximize", sampler=optuna.samplers.TPESampler(seed=0)
)
study.optimize(objective, n_trials=15)
print("best parameters:", study.best_params)
print(f"best CV macro-F1: {study.best_value:.3f}")

# %%
# The trials, and how ``c`` and ``bf`` relate to the score:
trials = study.trials_dataframe()
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax0.plot(trials["number"], trials["value"], "o", label="trial")
ax0.plot(trials["number"], trials["value"].cummax(), "-", label="best so far")
ax0.set(xlabel="Trial", ylabel="CV macro-F1", title="Optuna trials")
ax0.legend(frameon=False)
points = ax1.scatter(
    trials["params_c"], trials["params_bf"], c=trials["value"], cmap="viridis", s=60
)
ax1.set(
    xlabel="c",
    ylabel="bf",
    yticks=range(1, 6),
    title="Sampled (c, bf), coloured by score",
)
fig.colorbar(points, ax=ax1, label="CV macro-F1")
plt.show()

# %%
# Held-out check
# --------------
# Both tuned models are refitted on the whole training part and scored on the
# held-out quarter, next to the same network without ART.
best = study.best_params
tuned_optuna = make_pipeline(
    StandardScaler(),
    ARTClassifier(
        c=best["c"],
        bf=best["bf"],
        lr=best["lr"],
        module__hidden_units=(best["width"],) * 2,
        max_epochs=60,
        random_state=0,
    ),
)
no_art = make_pipeline(
    StandardScaler(), ARTClassifier(art=False, lr=3e-3, max_epochs=60, random_state=0)
)
held_out = {
    name: f1_score(y_test, model.fit(X_train, y_train).predict(X_test), average="macro")
    for name, model in [
        ("GridSearchCV", grid.best_estimator_),
        ("Optuna", tuned_optuna),
        ("no ART", no_art),
    ]
}
pd.Series(held_out, name="held-out macro-F1").round(3).to_frame()

# %%
# The rarest classes have only a handful of test proteins, so one protein
# more or less moves a class's F1 by several points: the held-out score is a
# noisy check, not a ranking.
pd.Series(y_test).value_counts().to_frame("test proteins").transpose()

# %%
# .. note::
#    Every search above fits networks one after the other. ``GridSearchCV``
#    and ``cross_val_score`` take ``n_jobs`` to fit several in parallel
#    processes (give each one torch thread, e.g. with
#    ``OMP_NUM_THREADS=1``), and Optuna's ``study.optimize`` takes
#    ``n_jobs`` for threads.
