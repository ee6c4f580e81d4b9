"""What a MESA fit costs beyond its members, and what meta-training costs.

On Mammography (11 183 rows, run 0 of the benchmark split: 60 % train, 20 %
validation), one core:

* a ``MESAClassifier`` fit with the shipped sampler, k = 10 and 20;
* the same members fitted alone on the same subsets (what any cascade of k
  trees on 2|P| rows costs);
* the members' predictions on the training and validation folds (the
  cascade's errors: MESA needs them for its state and weights);
* the policy: one ``MetaSampler.act`` call;
* meta-training 1 500 steps on this split (the authors' notebook: 16.5 s).

    OMP_NUM_THREADS=1 python benchmarks/mesa/timing.py
"""

import time

import torch
from run import SEEDS, load_binary
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, train_test_split

from skart.ensemble import MESAClassifier, MetaSampler


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    torch.set_num_threads(1)
    X, y = load_binary("mammography")
    X_rest, X_val, y_rest, y_val = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=SEEDS[0]
    )
    tr = next(
        StratifiedKFold(4, shuffle=True, random_state=SEEDS[0]).split(X_rest, y_rest)
    )[0]
    X_tr, y_tr = X_rest[tr], y_rest[tr]
    print(f"train {len(y_tr)} rows ({y_tr.sum()} minority), validation {len(y_val)}")
    for k in (10, 20):
        clf = MESAClassifier(n_estimators=k, random_state=0)
        fit = best_of(lambda clf=clf: clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val))
        members = [clone(clf.estimator_) for _ in clf.estimators_]

        def fit_members(members=members, clf=clf):
            for m, idx in zip(members, clf.sample_indices_):
                m.fit(X_tr[idx], y_tr[idx])

        members_fit = best_of(fit_members)

        def predict_members(clf=clf):
            for m in clf.estimators_:
                m.predict_proba(X_tr)
                m.predict_proba(X_val)

        members_predict = best_of(predict_members)
        act = best_of(
            lambda clf=clf: clf.meta_sampler_.act(clf.states_[:1], random_state=0), 50
        )
        uniform = MESAClassifier(n_estimators=k, meta_sampler="uniform", random_state=0)
        uni = best_of(lambda u=uniform: u.fit(X_tr, y_tr, X_val=X_val, y_val=y_val))
        print(
            f"k={k}: MESA fit {fit * 1e3:.1f} ms; members' fits alone "
            f"{members_fit * 1e3:.1f} ms; members' predictions on train+valid "
            f"{members_predict * 1e3:.1f} ms; policy {act * 1e6:.0f} us per call "
            f"({act * (k - 1) * 1e3:.2f} ms per fit); uniform cascade {uni * 1e3:.1f} ms; "
            f"rest {(fit - members_fit - members_predict) * 1e3:.1f} ms"
        )
    sampler = MetaSampler(n_steps=1500, random_state=0)
    sampler.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    first, last = sampler.episode_scores_[:50], sampler.episode_scores_[-25:]
    print(
        f"meta-training 1500 steps: {sampler.fit_time_:.1f} s "
        f"(validation AP of the episodes: first 50 {first.mean():.3f}, "
        f"last 25 {last.mean():.3f})"
    )


if __name__ == "__main__":
    main()
