"""One model trained data-parallel on several processes with ``torch.distributed``.

``ARTClassifier(distributed=True)`` runs on every rank of a process group
(``torchrun``). The ranks hold the same data; each trains on its shard of
one global pass per epoch (:class:`ClassDistributionSampler` with
``num_replicas``/``rank``), gradients are averaged by
:class:`~torch.nn.parallel.DistributedDataParallel`, and each rank scores its
shard of the validation fold. What decides anything (ART's class scores, the
losses that early stopping and the finite-loss guard read, the decision
offsets) is summed over the ranks in rank order or taken from rank 0, so it
is bitwise the same on every rank and every rank takes the same branch.
"""

import contextlib
import re
import zlib
from numbers import Integral

import numpy as np
import torch
import torch.distributed as dist
from skorch.callbacks import Callback
from torch.nn.parallel import DistributedDataParallel

from .._decision import binary_threshold
from .._metrics import class_counts, class_scores, scores_from_counts
from .._validation import draw_seed
from ._torch_datasets import DatasetFold, is_dataset
from ._torch_datasets import fingerprint as dataset_fingerprint

RUN_WITH = (
    "Start the script on every process with torchrun (e.g. `torchrun "
    "--nproc-per-node 2 train.py`) and call torch.distributed.init_process_group("
    '"gloo") (CPU) or ("nccl") (GPUs) before fit'
)


# What gloo and NCCL say when a peer is gone or silent: a connection reset or
# closed, a broken pipe, a timeout. torch raises DistError (NCCL, the store)
# or a plain RuntimeError (gloo) with such a text.
_PEER_FAILURE = re.compile(
    r"gloo|nccl|connection|broken pipe|timed out|timeout|peer|socket", re.IGNORECASE
)


class CollectiveError(RuntimeError):
    """A collective operation of a data-parallel fit failed: a rank is gone."""


def _peer_failure(exc):
    if isinstance(exc, CollectiveError):
        return False  # already explained
    dist_error = getattr(dist, "DistError", ())
    return isinstance(exc, dist_error) or bool(_PEER_FAILURE.search(str(exc)))


@contextlib.contextmanager
def collective(what):
    """Turn the failure of a collective operation into skart's explanation.

    A rank killed by a signal (out of memory, a lost machine, ``kill -9``)
    closes its connections, and gloo's collectives on the other ranks raise
    at once; a rank that hangs (stopped, deadlocked) leaves them waiting
    until the process group's timeout, when they raise too. Either way
    every surviving rank raises :class:`CollectiveError`, naming the likely
    cause, instead of torch's transport message alone (kept as its cause).
    """
    try:
        yield
    except RuntimeError as exc:
        if not _peer_failure(exc):
            raise
        rank = dist.get_rank() if dist.is_initialized() else "?"
        world = dist.get_world_size() if dist.is_initialized() else "?"
        raise CollectiveError(
            f"distributed=True: rank {rank} of {world} stopped {what}, because a "
            "collective operation with the other ranks failed. Another rank most "
            "likely died (killed by a signal or for lack of memory, its machine "
            "lost) or stopped answering for longer than the process group's "
            "timeout, the one given to torch.distributed.init_process_group("
            "timeout=...) (default: 30 minutes for gloo, 10 for NCCL); a rank "
            "that raised an error of its own stops the others the same way. "
            "Read the other ranks' logs for the first error; a fit cannot go on "
            f"without every rank, so start it again. torch said: {exc}"
        ) from exc


def check_process_group():
    """The world size and rank; a clear error without a process group."""
    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(
            "distributed=True trains one model on every process of a "
            "torch.distributed process group, but none is initialised. "
            f"{RUN_WITH}, or set distributed=False to train in this process."
        )
    return dist.get_world_size(), dist.get_rank()


def check_world_size(world_size, n_train, n_valid):
    """Refuse more processes than rows in either fold (each needs a shard)."""
    for fold, n in (("training", n_train), ("validation", n_valid)):
        if world_size > n:
            raise ValueError(
                f"The world size {world_size} is larger than the {n} rows of the "
                f"{fold} fold: every process needs at least one. Start fewer "
                "processes (torchrun --nproc-per-node), or give more data (or a "
                "larger validation_fraction)."
            )


def comm_device():
    """Where collective tensors live: the current GPU for NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def gather_sum(values):
    """Sum an array over the ranks, in rank order: the same bits on every rank.

    Parameters
    ----------
    values : array-like
        Same shape on every rank; summed as float64.

    Returns
    -------
    total : ndarray of float64
    """
    t = torch.as_tensor(np.asarray(values, dtype=np.float64), device=comm_device())
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    with collective("in an all-gather (sum)"):
        dist.all_gather(parts, t)
    parts = [part.cpu().numpy() for part in parts]
    total = parts[0].copy()
    for part in parts[1:]:  # a fixed order, unlike a reduction tree
        total += part
    return total


def gather_rows(values):
    """Every rank's float64 vector, as rows ``(world_size, len(values))``."""
    t = torch.as_tensor(np.asarray(values, dtype=np.float64), device=comm_device())
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    with collective("in an all-gather"):
        dist.all_gather(parts, t)
    return torch.stack(parts).cpu().numpy()


def broadcast(values):
    """Rank 0's float64 array, on every rank."""
    t = torch.as_tensor(np.asarray(values, dtype=np.float64), device=comm_device())
    with collective("in a broadcast from rank 0"):
        dist.broadcast(t, src=0)
    return t.cpu().numpy()


def global_class_scores(y_true, y_pred, n_classes, metric="f1", sample_weight=None):
    """Per-class scores of the validation rows of all ranks together.

    Each rank passes the predictions of its shard of the validation fold
    (shards may be of any size, empty included). A built-in metric sums the
    per-class counts (true positives, predictions, true rows) over the ranks,
    so the scores are those of one process scoring the whole fold; a
    callable gathers the predictions of every rank.

    Parameters
    ----------
    y_true, y_pred : torch.Tensor of shape (n_rows,)
        This rank's class indices.
    n_classes : int
        The same on every rank.
    metric : {"f1", "recall", "precision"} or callable, default="f1"
        As for :func:`skart._metrics.class_scores`.
    sample_weight : torch.Tensor of shape (n_rows,), default=None
        Weights of this rank's rows.

    Returns
    -------
    scores : ndarray of shape (n_classes,)
        The same bits on every rank.
    """
    if callable(metric):
        local = [y_true.cpu(), y_pred.cpu()]
        if sample_weight is not None:
            local.append(sample_weight.cpu())
        parts = [None] * dist.get_world_size()
        with collective("gathering the validation predictions"):
            dist.all_gather_object(parts, local)
        y_true, y_pred, *w = (torch.cat(a) for a in zip(*parts, strict=True))
        return class_scores(y_true, y_pred, n_classes, metric, w[0] if w else None)
    counts = class_counts(y_true, y_pred, n_classes, sample_weight)
    local = np.stack([c.double().cpu().numpy() for c in counts])  # (3, K)
    return scores_from_counts(*gather_sum(local), metric=metric)


class ShardedShuffle:
    """One permutation per epoch keyed by ``(seed, epoch)``, shared by the ranks.

    The training order of ``art=False``: rank ``r`` takes ``perm[r::W]`` of
    the permutation padded (from its start, as
    :class:`~torch.utils.data.DistributedSampler` does) to a multiple of
    ``W`` rows, so every rank runs the same number of batches.
    """

    def __init__(self, n_rows, seed, num_replicas, rank):
        self.n_rows = n_rows
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def sample_indices(self):
        perm = np.random.default_rng([self.seed, self.epoch]).permutation(self.n_rows)
        pad = self.num_replicas * len(self) - self.n_rows
        perm = np.concatenate([perm, perm[:pad]])
        return perm[self.rank :: self.num_replicas]

    def __iter__(self):  # as a DataLoader's sampler (a torch Dataset's fit)
        return iter(self.sample_indices().tolist())

    def __len__(self):
        return -(-self.n_rows // self.num_replicas)


class LocalEvalDDP(DistributedDataParallel):
    """DDP for training steps; evaluation runs the local module, no collective.

    The ranks' validation shards may differ in size by a batch, so a forward
    pass that synchronises would wait for a rank that has none left.
    Buffers (BatchNorm statistics) are taken from rank 0 when evaluation
    starts, so every rank scores with the same model.
    """

    def train(self, mode=True):
        if self.training and not mode:
            with collective("in a broadcast of rank 0's buffers"):
                for buf in self.module.buffers():
                    dist.broadcast(buf.data, src=0)
        return super().train(mode)

    def forward(self, *args, **kwargs):
        if not self.training:
            return self.module(*args, **kwargs)
        return super().forward(*args, **kwargs)


class DistributedSync(Callback):
    """Keep the ranks of a data-parallel skorch fit in step.

    At the start of an epoch it keys the training sampler's draws by the
    epoch; at its end it replaces this rank's ``train_loss`` and
    ``valid_loss`` (and their ``_best`` flags) by the losses over all ranks
    (row-weighted means), which early stopping and the finite-loss guard
    then read. Put it before those callbacks.

    Parameters
    ----------
    valid_total : float
        Rows (or total weight) of this rank's validation shard: the weight of
        its ``valid_loss`` in the global mean.
    """

    def __init__(self, valid_total=None):
        self.valid_total = valid_total

    def on_epoch_begin(self, net, **kwargs):
        sampler = getattr(net, "iterator_train__sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(len(net.history) - 1)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        n_train = sum(b.get("train_batch_size", 0) for b in row["batches"])
        local = [
            row.get("train_loss", 0.0) * n_train,
            n_train,
            row.get("valid_loss", 0.0) * self.valid_total,
            self.valid_total,
        ]
        total = gather_sum(local)
        losses = {"train_loss": total[0] / total[1]}
        if "valid_loss" in row:
            losses["valid_loss"] = total[2] / total[3]
        for key, loss in losses.items():
            earlier = [r[key] for r in net.history[:-1] if key in r]
            net.history.record(key, float(loss))
            # The rank's own *_best flags were set from its shard's loss.
            net.history.record(f"{key}_best", not earlier or loss < min(earlier))


class DistributedFit:
    """The distributed side of one ``fit``: checks, shards, DDP, agreement.

    Parameters
    ----------
    estimator : BaseNetClassifier
        Checked for a process group here (a clear error without one).
    """

    # What the ranks compare before training (a float64 vector per rank).
    FINGERPRINT = (
        "number of rows",
        "features per row",
        "number of classes",
        "class labels",
        "row labels",
        "sum of X",
        "sum of sample_weight",
        "random_state",
        "parameters",
    )

    def __init__(self, estimator):
        self.world_size, self.rank = check_process_group()
        self.estimator = estimator
        device = torch.device(estimator.device)
        if dist.get_backend() == "nccl" and device.type != "cuda":
            raise ValueError(
                f"The process group uses NCCL, which needs GPU tensors, but "
                f"device={estimator.device!r}. Pass device=f'cuda:{{local_rank}}' "
                "(LOCAL_RANK from torchrun), or use the gloo backend on CPU."
            )
        self.train_sampler = None

    def _fingerprint(self, X, y_enc, sample_weight):
        est = self.estimator
        dataset = is_dataset(X)  # not read whole: its type, length and labels
        data = X.data if hasattr(X, "tocsr") else X
        # The simple parameters that must agree; the device (one GPU per rank)
        # and verbose (often on rank 0 only) may differ.
        simple = {
            k: v
            for k, v in sorted(est.get_params(deep=False).items())
            if isinstance(v, int | float | str | bool | type(None))
            and k not in ("device", "verbose")
        }
        rs = est.random_state
        return [
            len(X) if dataset else X.shape[0],
            -1 if dataset else int(np.prod(X.shape[1:])),
            len(est.classes_),
            zlib.crc32(repr(est.classes_.tolist()).encode()),
            zlib.crc32(np.ascontiguousarray(y_enc, dtype=np.int64).tobytes()),
            (
                float(zlib.crc32(dataset_fingerprint(X).encode()))
                if dataset
                else float(np.sum(data, dtype=np.float64))
            ),
            -1.0 if sample_weight is None else float(np.sum(sample_weight)),
            float(rs) if isinstance(rs, Integral) else -1.0,
            zlib.crc32(repr(simple).encode()),
        ]

    def check_data(self, X, y_enc, sample_weight, rng):
        """Refuse different data on different ranks; return a shared random state.

        Every rank compares its fingerprint (shapes, class counts and labels,
        checksums, parameters) with every other's, so all raise together.
        A ``random_state`` that is not an int is replaced by rank 0's draw.
        """
        rows = gather_rows(self._fingerprint(X, y_enc, sample_weight))
        differ = sorted(
            {
                name
                for r in range(1, self.world_size)
                for name, a, b in zip(self.FINGERPRINT, rows[0], rows[r], strict=True)
                if a != b
            },
            key=self.FINGERPRINT.index,
        )
        if differ:
            ranks = [r for r in range(1, self.world_size) if np.any(rows[r] != rows[0])]
            raise ValueError(
                f"distributed=True needs the same data and parameters on every "
                f"rank, but ranks {ranks} differ from rank 0 in: {', '.join(differ)}. "
                "Load the whole data set on every process and pass it to fit "
                "unsharded (each rank trains on its own shard of every epoch), "
                "with the same parameters and an int random_state."
            )
        if isinstance(self.estimator.random_state, Integral):
            return rng
        return np.random.RandomState(int(broadcast([draw_seed(rng)])[0]))

    def shard(self, data):
        """Shard a fit's sampler and validation fold for this rank (in place)."""
        W, r = self.world_size, self.rank
        check_world_size(W, len(data.y_train), len(data.y_valid))
        if data.sampler is not None:
            # Built sharded by the estimator (FitState.class_sampler).
            self.train_sampler = data.sampler
        else:
            self.train_sampler = ShardedShuffle(len(data.y_train), data.seed, W, r)
        # The full fold stays for the decision rule; the net scores its shard.
        self._full = (data.valid_ds, data.valid_weights)
        rows = torch.arange(r, len(data.y_valid), W)
        if isinstance(data.valid_ds, DatasetFold):
            data.valid_ds = data.valid_ds.subset(rows.numpy())
        else:
            data.valid_ds = type(data.valid_ds)(
                *data.valid_ds.take(rows.to(_device(data)))
            )
        if data.valid_weights is not None:
            data.valid_weights = data.valid_weights[rows.to(data.valid_weights.device)]
        self.valid_total = float(
            len(rows) if data.valid_weights is None else data.valid_weights.sum()
        )

    def unshard(self, data):
        """Put the whole validation fold back (for the decision rule)."""
        data.valid_ds, data.valid_weights = self._full

    def callbacks(self):
        """The net's callbacks that keep the ranks in step (before all others)."""
        return [("distributed", DistributedSync(self.valid_total))]

    def fit(self, net, dataset):
        """Train a skorch net with its module wrapped in DDP, then unwrap it."""
        if not net.initialized_:
            net.initialize()
        device = torch.device(net.device)
        ids = None
        if device.type == "cuda":
            ids = [
                torch.cuda.current_device() if device.index is None else device.index
            ]
        with collective("before training, taking rank 0's weights"):
            net.module_ = LocalEvalDDP(net.module_, device_ids=ids)  # rank 0's weights
        try:
            # DDP all-reduces the gradients in every backward pass.
            with collective(_during_epoch(net)):
                net.partial_fit(dataset, None)
        finally:
            net.module_ = net.module_.module

    def finish(self, estimator):
        """Take rank 0's decision offsets (the model is the same everywhere)."""
        offsets = broadcast(estimator.decision_offsets_)
        estimator.decision_offsets_ = offsets
        if hasattr(estimator, "decision_threshold_"):
            estimator.decision_threshold_ = binary_threshold(offsets)


class _during_epoch:
    """'during epoch N' of a net's history, read when the message is written."""

    def __init__(self, net):
        self.net = net

    def __str__(self):
        return f"during epoch {len(self.net.history)} of training"


def _device(data):
    y = data.valid_ds.y
    return y.device if y is not None else torch.device("cpu")
