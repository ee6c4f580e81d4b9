"""Cost of one EGA meta step against a plain training step, on one thread.

Two measurements on the same data and network (the paper's MLP [128, 16]):

* the steps alone: a plain step (forward, backward, Adam; and forward,
  backward, SGD) against EGA's meta step (forward and backward with the
  graph kept, look-ahead forward, double backward, the two updates), timed
  with ``timeit`` on fixed batches;
* whole epochs of a fit: the per-epoch duration (``history_[:, "dur"]``,
  which includes the validation pass) of phase 1 (plain Adam steps) against
  phase 2 (meta steps).

Run: ``OMP_NUM_THREADS=1 python benchmarks/ega/bench_step.py``
"""

import argparse
import json
import timeit

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.preprocessing import MinMaxScaler

from skart import MLP, EGAClassifier
from skart._ega._meta import meta_gradients

CE = torch.nn.functional.cross_entropy


def step_times(n_features, batch_size, b_z, b_val, repeat):
    torch.manual_seed(0)
    X = torch.rand(batch_size, n_features)
    y = (torch.rand(batch_size) < 0.1).long()
    Z = torch.rand(b_z, n_features)
    y_z = torch.ones(b_z, dtype=torch.long)
    X_val = torch.rand(b_val, n_features)
    y_val = (torch.rand(b_val) < 0.1).long()
    net = MLP(n_features, 2, hidden_units=(128, 16), dropout=0.0)
    adam = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999), fused=True)
    sgd = torch.optim.SGD(net.parameters(), lr=1e-2)
    Xz, yz = torch.cat([Z, X]), torch.cat([y_z, y])

    def plain(opt):
        opt.zero_grad()
        CE(net(Xz), yz).backward()
        opt.step()

    params = list(net.parameters())

    def meta():
        _, _, grads, grad_Z, _ = meta_gradients(
            net, CE, Z, y_z, X, y, X_val, y_val, 1e-2
        )
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-1e-2)
            Z.sub_(10.0 * grad_Z)

    out = {}
    for name, fn in [
        ("plain_adam", lambda: plain(adam)),
        ("plain_sgd", lambda: plain(sgd)),
        ("meta", meta),
    ]:
        fn()
        times = timeit.repeat(fn, number=200, repeat=repeat)
        out[name] = min(times) / 200 * 1e6  # microseconds per step
    return out


def epoch_times(n_samples, epochs):
    X, y = make_classification(
        n_samples=n_samples, n_features=20, weights=[0.9], random_state=0
    )
    X = MinMaxScaler().fit_transform(X)
    clf = EGAClassifier(pretrain_epochs=epochs, max_epochs=epochs, random_state=0)
    clf.fit(X, y)
    dur = np.array(clf.history_[:, "dur"])
    phase = np.array(clf.history_[:, "phase"])
    return {
        "phase1_epoch_s": float(np.median(dur[phase == 1])),
        "phase2_epoch_s": float(np.median(dur[phase == 2])),
        "n_train": int(clf.class_counts_.sum()),
        "n_synthetic": len(clf.synthetic_X_),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = {"torch": torch.__version__, "steps_us": {}, "epochs": None}
    for n_features in (16, 100):
        key = f"features={n_features},batch=128+13,valid=256"
        result["steps_us"][key] = step_times(n_features, 128, 13, 256, args.repeat)
    result["epochs"] = epoch_times(5000, 5)
    for key, t in result["steps_us"].items():
        print(
            f"{key}: plain Adam {t['plain_adam']:.0f} us, plain SGD "
            f"{t['plain_sgd']:.0f} us, meta {t['meta']:.0f} us "
            f"({t['meta'] / t['plain_adam']:.2f}x Adam, "
            f"{t['meta'] / t['plain_sgd']:.2f}x SGD)"
        )
    e = result["epochs"]
    print(
        f"epochs of a fit ({e['n_train']} training rows, {e['n_synthetic']} points): "
        f"phase 1 {e['phase1_epoch_s']:.3f} s, phase 2 {e['phase2_epoch_s']:.3f} s "
        f"({e['phase2_epoch_s'] / e['phase1_epoch_s']:.2f}x)"
    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
