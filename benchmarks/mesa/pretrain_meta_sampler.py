"""Meta-train the meta-sampler that skart ships (skart/ensemble/_data/meta_sampler_v1.npz).

Deterministic (fixed seeds, one torch thread). The tasks are synthetic
(``make_classification`` over imbalance ratio, class separation, label noise,
size and dimension) so the weights carry no data-license question and have
seen none of the real data sets we report on. Decision-tree members, as in
the paper. Runs in about a minute on one core:

    OMP_NUM_THREADS=1 python benchmarks/mesa/pretrain_meta_sampler.py
"""

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

import skart
from skart.ensemble import MESAClassifier, MetaSampler

OUT = Path(__file__).resolve().parents[2] / "skart" / "ensemble" / "_data"

# (imbalance ratio, class_sep, flip_y, n_samples, n_features): a spread of
# easy/hard, clean/noisy tasks; binary, like the paper's meta-training.
TASKS = [
    (10, 0.5, 0.05, 3000, 10),
    (20, 1.0, 0.0, 4000, 20),
    (50, 1.0, 0.05, 6000, 8),
    (100, 2.0, 0.1, 10000, 30),
    (10, 2.0, 0.1, 2000, 50),
    (20, 0.5, 0.0, 5000, 5),
    (50, 2.0, 0.0, 8000, 15),
    (100, 1.0, 0.05, 10000, 12),
]
HELD_OUT = [(30, 1.0, 0.05, 6000, 16), (15, 0.7, 0.02, 4000, 25)]


def make_task(ir, sep, flip, n, d, seed):
    X, y = make_classification(
        n_samples=n,
        n_features=d,
        n_informative=max(2, d // 2),
        n_redundant=min(2, d // 4),
        weights=[ir / (ir + 1)],
        class_sep=sep,
        flip_y=flip,
        random_state=seed,
    )
    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT / "meta_sampler_v1.npz")
    args = parser.parse_args()

    tasks = [make_task(*t, seed=100 + i) for i, t in enumerate(TASKS)]
    sampler = MetaSampler(
        n_steps=args.n_steps, start_steps=500, random_state=args.seed, verbose=0
    )
    sampler.fit(tasks=tasks)
    scores = sampler.episode_scores_
    print(
        f"meta-trained {args.n_steps} steps in {sampler.fit_time_:.1f} s; "
        f"mean episode score first 50: {scores[:50].mean():.4f}, "
        f"last 50: {scores[-50:].mean():.4f}"
    )
    script = Path(__file__).read_bytes()
    config = json.loads(sampler.train_config())
    config.update(tasks=TASKS, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sampler.save(
        args.out,
        train_config=json.dumps(config),
        skart_version=skart.__version__,
        script_sha256=hashlib.sha256(script).hexdigest(),
        meta_training_seconds=f"{sampler.fit_time_:.1f}",
    )
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")

    # Sanity check on held-out synthetic tasks: policy vs uniform sampling.
    trained = MetaSampler.load(args.out)
    for i, t in enumerate(HELD_OUT):
        X, y = make_task(*t, seed=900 + i)
        res = {}
        for name, ms in (("trained", trained), ("uniform", "uniform")):
            vals = []
            for seed in range(5):
                clf = MESAClassifier(
                    n_estimators=10, meta_sampler=ms, random_state=seed
                )
                clf.fit(X, y)
                vals.append(clf.validation_scores_[-1])
            res[name] = np.mean(vals)
        print(
            f"held-out task {t}: validation AP trained {res['trained']:.4f} "
            f"uniform {res['uniform']:.4f}"
        )


if __name__ == "__main__":
    main()
