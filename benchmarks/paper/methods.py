"""The methods of the ART paper's Table 1, each built on the same network.

Every method is a :class:`Method`: a name, a builder that returns an
unfitted estimator with ``fit(X, y, X_val=..., y_val=...)`` semantics, the
defaults used without tuning, and an Optuna search space. All methods share
the network (skart's MLP, or :class:`CompactCNN` for MNIST-LT), AdamW with a
cosine-annealed learning rate, early stopping (patience 10) on the validation
loss, and the three common hyperparameters ``lr``, ``weight_decay`` and
``width``.
"""

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import NearMiss, RandomUnderSampler
from sklearn.model_selection import TunedThresholdClassifierCV
from torch import nn

from skart import MLP, ARTClassifier
from skart.losses import (
    BalancedSoftmaxLoss,
    CostSensitiveCrossEntropy,
    DeferredReweighting,
    FocalLoss,
    LDAMLoss,
    OHEMCrossEntropy,
)

from .msmote import MSMOTE

COMMON_DEFAULTS = {"lr": 1e-3, "weight_decay": 1e-2, "width": 64}
CNN_DEFAULT_WIDTH = 16


class CompactCNN(nn.Module):
    """Two conv blocks and a linear head for 28x28 grey images given flat.

    Inputs of shape (n, 784) (what imbalanced-learn's samplers need) or
    (n, 1, 28, 28) are both accepted.
    """

    def __init__(self, n_features=784, n_classes=10, width=16, dropout=0.1):
        super().__init__()
        side = int(round(np.sqrt(n_features)))
        self.side = side
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(2 * width * (side // 4) ** 2, n_classes),
        )

    def forward(self, X):
        X = X.reshape(len(X), 1, self.side, self.side)  # (N, 1, 28, 28)
        return self.head(self.features(X))


@dataclass
class Context:
    """What a builder needs to know about the data and the run."""

    kind: str  # "tabular", "text" or "image"
    min_class_count: int  # smallest class in the training split
    n_classes: int
    seed: int
    max_epochs: int = 100
    patience: int = 10


def _net_params(params, ctx):
    """ARTClassifier arguments shared by all methods."""
    out = {
        "lr": params["lr"],
        "optimizer__weight_decay": params["weight_decay"],
        "max_epochs": ctx.max_epochs,
        "patience": ctx.patience,
        "random_state": ctx.seed,
    }
    if ctx.kind == "image":
        out["module"] = CompactCNN
        out["module__width"] = params["width"]
    else:
        out["module__hidden_units"] = (params["width"], params["width"])
    return out


def _clf(params, ctx, **kw):
    return ARTClassifier(**{"art": False, **_net_params(params, ctx), **kw})


def _ttcv(params, ctx):
    # scikit-learn's recipe: 5-fold CV threshold for macro-F1, then a refit on all
    # training rows; every inner fit still stops early on the validation fold.
    clf = _clf(params, ctx).set_fit_request(X_val=True, y_val=True, sample_weight=False)
    return TunedThresholdClassifierCV(clf, scoring="f1_macro", random_state=ctx.seed)


def _pipe(sampler, params, ctx):
    return Pipeline([("sampler", sampler), ("clf", _clf(params, ctx))])


def _k(params, ctx):
    # SMOTE-like samplers need k < size of the smallest class.
    return int(max(1, min(params["k_neighbors"], ctx.min_class_count - 1)))


@dataclass
class Method:
    """A row of Table 1: how to build it and which hyperparameters to tune."""

    name: str
    build: object  # (params, ctx) -> estimator
    defaults: dict = field(default_factory=dict)
    space: object = None  # (trial) -> dict of the method's own hyperparameters
    grid: dict = field(default_factory=dict)  # untuned runs: pick best on validation
    note: str = ""
    binary_only: bool = False  # skipped on data sets with more than two classes
    routed: bool = False  # fit under metadata routing (X_val / y_val requested)

    def all_defaults(self, ctx):
        width = CNN_DEFAULT_WIDTH if ctx.kind == "image" else COMMON_DEFAULTS["width"]
        return {**COMMON_DEFAULTS, "width": width, **self.defaults}

    def n_hyperparameters(self):
        return 3 + len(self.defaults) + len(self.grid)

    def suggest(self, trial, ctx):
        widths = [8, 16, 32] if ctx.kind == "image" else [32, 64, 128, 256]
        params = {
            "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-5, 1e-1, log=True),
            "width": trial.suggest_categorical("width", widths),
        }
        if self.space is not None:
            params.update(self.space(trial))
        return params


class AuthorsART:
    """ART with the authors' ``art_resampling`` package, on skart's network.

    The training loop follows the package's README: an :class:`ARTDataset`
    resampled to ``round(c * N)`` rows drawn uniformly plus ``(1 - c) * N``
    rows drawn per class by ``w``, a fresh ``DataLoader`` after each refresh
    (every ``bf`` epochs, from the per-class F1 of validation predictions),
    AdamW, cosine annealing over ``max_epochs`` and early stopping on the
    validation loss with the best weights restored. The first epochs draw by
    the class prior (``w`` = prior), as skart does.
    """

    def __init__(
        self,
        *,
        c=0.5,
        bf=1,
        lr=1e-3,
        weight_decay=1e-2,
        hidden_units=(64, 64),
        module=None,
        module_kw=None,
        max_epochs=100,
        patience=10,
        batch_size=128,
        random_state=0,
    ):
        self.c, self.bf, self.lr, self.weight_decay = c, bf, lr, weight_decay
        self.hidden_units, self.module, self.module_kw = hidden_units, module, module_kw
        self.max_epochs, self.patience = max_epochs, patience
        self.batch_size, self.random_state = batch_size, random_state

    def fit(self, X, y, *, X_val, y_val):
        from art_resampling import ARTDataset, art_refresh_dataset_from_predictions
        from torch.utils.data import DataLoader

        self.classes_, y = np.unique(y, return_inverse=True)
        y_val = np.searchsorted(self.classes_, y_val)
        k = len(self.classes_)
        torch.manual_seed(self.random_state)
        gen = torch.Generator().manual_seed(self.random_state)
        X = np.asarray(X, dtype=np.float32)
        if self.module is None:
            net = MLP(X.shape[1], k, hidden_units=self.hidden_units)
        else:
            net = self.module(
                n_features=X.shape[1], n_classes=k, **(self.module_kw or {})
            )
        prior = np.bincount(y, minlength=k) / len(y)
        ds = ARTDataset(
            X, y, c=self.c, cls_weights=prior, seed=self.random_state, enable_art=True
        )
        loader_kw = {"batch_size": self.batch_size, "shuffle": True, "generator": gen}
        loader = DataLoader(ds, **loader_kw)
        opt = torch.optim.AdamW(
            net.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.max_epochs)
        loss_fn = nn.CrossEntropyLoss()
        Xv = torch.from_numpy(np.asarray(X_val, dtype=np.float32))
        yv = torch.from_numpy(y_val.astype(np.int64))
        best, best_state, wait = np.inf, None, 0
        for epoch in range(1, self.max_epochs + 1):
            net.train()
            for batch in loader:
                opt.zero_grad()
                loss_fn(net(batch["x"]), batch["y"]).backward()
                opt.step()
            sched.step()
            net.eval()
            with torch.no_grad():
                logits = net(Xv)
                val_loss = loss_fn(logits, yv).item()
            if ARTDataset.should_refresh(epoch, self.bf):
                loader, _, _ = art_refresh_dataset_from_predictions(
                    ds, y_val, logits.argmax(1).numpy(), k, loader_kw
                )
            if val_loss < best:
                best, best_state, wait = val_loss, copy.deepcopy(net.state_dict()), 0
            else:
                wait += 1
                if wait >= self.patience:
                    break
        net.load_state_dict(best_state)
        self.net_, self.n_iter_ = net.eval(), epoch
        return self

    def predict(self, X):
        with torch.no_grad():
            logits = self.net_(torch.from_numpy(np.asarray(X, dtype=np.float32)))
        return self.classes_[logits.argmax(1).numpy()]


def _authors_art(p, ctx):
    kw = {}
    if ctx.kind == "image":
        kw = {"module": CompactCNN, "module_kw": {"width": p["width"]}}
    return AuthorsART(
        c=p["c"],
        bf=p["bf"],
        lr=p["lr"],
        weight_decay=p["weight_decay"],
        hidden_units=(p["width"], p["width"]),
        max_epochs=ctx.max_epochs,
        patience=ctx.patience,
        random_state=ctx.seed,
        **kw,
    )


def _art_space(t):
    return {"c": t.suggest_float("c", 0.0, 1.0), "bf": t.suggest_int("bf", 1, 10)}


def authors_package_available():
    try:
        import art_resampling  # noqa: F401  (GPL-3.0, optional)
    except ImportError:
        return False
    return True


METHODS = {
    m.name: m
    for m in [
        Method("Baseline", lambda p, c: _clf(p, c)),
        Method(
            "ART",
            lambda p, c: _clf(p, c, art=True, c=p["c"], bf=p["bf"]),
            defaults={"c": 0.5, "bf": 1},
            space=_art_space,
        ),
        # The threshold-moving baselines the paper never ran: the same nets with
        # the decision rule fitted on the validation fold (decision="tuned").
        Method(
            "Baseline+threshold",
            lambda p, c: _clf(p, c, decision="tuned"),
            note="the plain net, decision rule tuned on the validation fold",
        ),
        Method(
            "ART (smooth=0)",
            lambda p, c: _clf(p, c, art=True, c=p["c"], bf=p["bf"], smooth=0.0),
            defaults={"c": 0.5, "bf": 1},
            space=_art_space,
            note="ART on the raw class scores, skart's rule before smooth=1",
        ),
        Method(
            "Baseline+TTCV",
            _ttcv,
            binary_only=True,
            routed=True,
            note="the plain net in scikit-learn's TunedThresholdClassifierCV "
            "(5-fold CV threshold for macro-F1, refit on the training split)",
        ),
        Method(
            "ART+threshold",
            lambda p, c: _clf(p, c, art=True, c=p["c"], bf=p["bf"], decision="tuned"),
            defaults={"c": 0.5, "bf": 1},
            space=_art_space,
            note="ART, decision rule tuned on the validation fold",
        ),
        Method(
            "ROS",
            lambda p, c: _pipe(RandomOverSampler(random_state=c.seed), p, c),
        ),
        Method(
            "RUS",
            lambda p, c: _pipe(RandomUnderSampler(random_state=c.seed), p, c),
        ),
        Method(
            "SMOTE",
            lambda p, c: _pipe(SMOTE(k_neighbors=_k(p, c), random_state=c.seed), p, c),
            defaults={"k_neighbors": 5},
            space=lambda t: {"k_neighbors": t.suggest_int("k_neighbors", 1, 10)},
        ),
        Method(
            "MSMOTE",
            lambda p, c: _pipe(MSMOTE(k_neighbors=_k(p, c), random_state=c.seed), p, c),
            defaults={"k_neighbors": 5},
            space=lambda t: {"k_neighbors": t.suggest_int("k_neighbors", 1, 10)},
        ),
        Method(
            "NearMiss",
            lambda p, c: _pipe(
                NearMiss(
                    version=p["version"],
                    n_neighbors=min(3, c.min_class_count),
                    n_neighbors_ver3=min(3, c.min_class_count),
                ),
                p,
                c,
            ),
            space=lambda t: {"version": t.suggest_categorical("version", [1, 2, 3])},
            grid={"version": [1, 2, 3]},
        ),
        Method(
            "CostSensitive",
            lambda p, c: _clf(p, c, criterion=CostSensitiveCrossEntropy),
        ),
        Method(
            "Focal",
            lambda p, c: _clf(p, c, criterion=FocalLoss, criterion__gamma=p["gamma"]),
            defaults={"gamma": 2.0},
            space=lambda t: {"gamma": t.suggest_float("gamma", 0.5, 5.0)},
        ),
        Method(
            "OHEM",
            lambda p, c: _clf(
                p, c, criterion=OHEMCrossEntropy, criterion__keep_ratio=p["keep_ratio"]
            ),
            defaults={"keep_ratio": 0.7},
            space=lambda t: {"keep_ratio": t.suggest_float("keep_ratio", 0.1, 1.0)},
        ),
        Method(
            "LDAM-DRW",
            lambda p, c: _clf(
                p,
                c,
                criterion=LDAMLoss,
                criterion__max_margin=p["max_margin"],
                criterion__scale=p["scale"],
                callbacks=[DeferredReweighting(start_epoch=p["drw_start"])],
            ),
            defaults={"max_margin": 0.5, "scale": 1.0, "drw_start": 10},
            space=lambda t: {
                "max_margin": t.suggest_float("max_margin", 0.1, 1.0),
                "scale": t.suggest_float("scale", 0.5, 30.0, log=True),
                "drw_start": t.suggest_int("drw_start", 0, 40),
            },
            note="DRW switches on at epoch drw_start (not 80% of max_epochs): "
            "early stopping usually ends training before epoch 80.",
        ),
        Method(
            "BALMS",
            lambda p, c: _clf(p, c, criterion=BalancedSoftmaxLoss),
            note="Balanced softmax loss only, without BALMS's meta-sampler.",
        ),
        Method(
            "ART (authors' package)",
            _authors_art,
            defaults={"c": 0.5, "bf": 1},
            space=_art_space,
            note="art_resampling's ARTDataset in a hand-written loop (GPL-3.0, optional).",
        ),
    ]
}

AUTHORS = "ART (authors' package)"
