"""Train one ARTClassifier on several processes with torch.distributed (DDP).

Every process runs this script: each loads the same data, trains on its
shard of every epoch, and ends with the same fitted classifier. On one
machine, two CPU processes::

    OMP_NUM_THREADS=1 torchrun --standalone --nproc-per-node 2 examples/torchrun_art.py

One process per GPU (NCCL)::

    torchrun --standalone --nproc-per-node 4 examples/torchrun_art.py --cuda

Several machines: ``torchrun --nnodes 2 --node-rank <0|1> --nproc-per-node 4
--rdzv-endpoint host0:29500 ...`` on each (see torchrun's documentation).
"""

import argparse
import os
import pickle

import torch
import torch.distributed as dist
from sklearn.datasets import make_classification
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from skart import ARTClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuda", action="store_true", help="one GPU per process, NCCL")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", help="rank 0 pickles the fitted classifier here")
    args = parser.parse_args()

    local_rank = int(os.environ.get("LOCAL_RANK", 0))  # set by torchrun
    if args.cuda:
        torch.cuda.set_device(local_rank)
        backend, device = "nccl", f"cuda:{local_rank}"
    else:
        backend, device = "gloo", "cpu"
    dist.init_process_group(backend)
    try:
        # The same data on every rank (the same file, or the same seed): the
        # ranks check it and shard it themselves.
        X, y = make_classification(
            n_samples=args.rows,
            n_features=20,
            n_informative=10,
            n_classes=4,
            weights=[0.7, 0.2, 0.07, 0.03],
            random_state=0,
        )
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, stratify=y, random_state=0
        )
        clf = ARTClassifier(
            max_epochs=args.epochs,
            batch_size=128,  # per process: a step sees 128 x world_size rows
            device=device,
            random_state=0,  # the same on every rank
            distributed=True,
        ).fit(X_train, y_train)
        if dist.get_rank() == 0:  # every rank holds the same model
            f1 = f1_score(y_test, clf.predict(X_test), average="macro")
            print(
                f"{dist.get_world_size()} processes ({backend}), {clf.n_iter_} epochs, "
                f"test macro-F1 {f1:.3f}, final p {clf.sampling_distribution_.round(3)}"
            )
            if args.out:
                with open(args.out, "wb") as f:
                    pickle.dump(clf, f)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
