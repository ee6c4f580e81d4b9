"""Fingerprint every estimator's ``predict_proba`` at fixed seeds.

Run it on two commits and compare the outputs: a restructure that moves code
must leave every array bitwise equal.

    python benchmarks/check_bitwise.py --out before.npz        # on the old commit
    python benchmarks/check_bitwise.py --out after.npz         # on the new one
    python benchmarks/check_bitwise.py --compare before.npz after.npz
"""

import argparse
import io
import sys

import numpy as np
import torch
from sklearn.datasets import make_classification


def data(n_classes, seed=0):
    X, y = make_classification(
        n_samples=400,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        weights=[0.7, 0.2, 0.1][:n_classes] if n_classes == 3 else [0.85],
        random_state=seed,
    )
    labels = np.array(["neg", "pos", "mid"])[:n_classes]
    return X, labels[y]


def cases():
    from skart import ARTClassifier, AutoSMOTEClassifier, EGAClassifier
    from skart.over_sampling import AutoSMOTE

    small = dict(module__hidden_units=(16,), lr=1e-2, random_state=0)
    art = dict(max_epochs=6, **small)
    ega = dict(pretrain_epochs=4, max_epochs=3, **small)
    aut = dict(max_epochs=4, k_max=3, **small)
    yield "art", lambda: ARTClassifier(**art), {}
    yield "art_off", lambda: ARTClassifier(art=False, **art), {}
    yield "art_tuned", lambda: ARTClassifier(decision="tuned", **art), {}
    yield "art_smooth0_c0", lambda: ARTClassifier(smooth=0, c=0.0, bf=2, **art), {}
    yield (
        "art_patience_metric",
        lambda: ARTClassifier(
            patience=2, monitor="metric", **{**art, "max_epochs": 12}
        ),
        {},
    )
    yield (
        "art_patience_lom",
        lambda: ARTClassifier(
            patience=2, monitor="loss_or_metric", **{**art, "max_epochs": 12}
        ),
        {},
    )
    yield (
        "art_patience_loss",
        lambda: ARTClassifier(patience=2, **{**art, "max_epochs": 12}),
        {},
    )
    yield "art_weighted", lambda: ARTClassifier(**art), {"weighted": True}
    yield (
        "art_off_weighted",
        lambda: ARTClassifier(art=False, **art),
        {"weighted": True},
    )
    yield "art_cosine", lambda: ARTClassifier(lr_schedule="cosine", **art), {}
    yield "art_warm", lambda: ARTClassifier(warm_start=True, **art), {"refit": True}
    yield "ega", lambda: EGAClassifier(**ega), {}
    yield "ega_art", lambda: EGAClassifier(art=True, **ega), {}
    yield "ega_weighted", lambda: EGAClassifier(**ega), {"weighted": True}
    yield "ega_conf", lambda: EGAClassifier(confidence=0.9, **ega), {}
    yield "ega_warm", lambda: EGAClassifier(warm_start=True, **ega), {"refit": True}
    yield "ega_tuned", lambda: EGAClassifier(decision="tuned", **ega), {}
    yield "autosmote", lambda: AutoSMOTEClassifier(**aut), {}
    yield "autosmote_art", lambda: AutoSMOTEClassifier(art=True, **aut), {}
    yield "autosmote_weighted", lambda: AutoSMOTEClassifier(**aut), {"weighted": True}
    yield "autosmote_joint", lambda: AutoSMOTEClassifier(objective="joint", **aut), {}
    yield (
        "autosmote_warm",
        lambda: AutoSMOTEClassifier(warm_start=True, **aut),
        {"refit": True},
    )
    yield (
        "sampler",
        lambda: AutoSMOTE(estimator=AutoSMOTEClassifier(**aut), random_state=0),
        {"resample": True},
    )


def run():
    torch.set_num_threads(1)
    out = {}
    for n_classes in (2, 3):
        X, y = data(n_classes)
        X_test = np.random.RandomState(1).normal(size=(300, X.shape[1]))
        w = np.where(y == y[0], 1.0, 3.0)
        for name, make, opts in cases():
            key = f"{name}_{n_classes}"
            est = make()
            kwargs = {"sample_weight": w} if opts.get("weighted") else {}
            if opts.get("resample"):
                Xr, yr = est.fit_resample(X, y)
                out[key] = np.asarray(Xr, dtype=np.float64)
                out[key + "_y"] = np.asarray(yr).astype(str)
                continue
            est.fit(X, y, **kwargs)
            if opts.get("refit"):
                est.fit(X, y, **kwargs)
            out[key] = est.predict_proba(X_test)
            out[key + "_pred"] = np.asarray(est.predict(X_test)).astype(str)
            out[key + "_n_iter"] = np.array([est.n_iter_])
            # A save/load round trip predicts the same.
            if hasattr(est, "save_fitted"):
                buf = io.BytesIO()
                est.save_fitted(buf)
                buf.seek(0)
                import skart

                if hasattr(skart, "load_fitted"):
                    loaded = skart.load_fitted(buf)
                else:  # a commit from before skart.load_fitted
                    loaded = make().load_fitted(buf)
                out[key + "_loaded"] = loaded.predict_proba(X_test)
            print(key, flush=True)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out")
    parser.add_argument("--compare", nargs=2)
    args = parser.parse_args()
    if args.compare:
        a, b = (np.load(p) for p in args.compare)
        missing = [k for k in a.files if k not in b.files]
        new = [k for k in b.files if k not in a.files]  # estimators added since
        bad = [k for k in a.files if k in b.files and not np.array_equal(a[k], b[k])]
        print(
            f"{len(a.files) - len(missing)} arrays compared; {len(bad)} differ: {bad}"
        )
        if missing or new:
            print(f"only in the first: {missing}; only in the second: {new}")
        sys.exit(1 if bad or missing else 0)
    np.savez(args.out, **run())


if __name__ == "__main__":
    main()
