"""AutoSMOTE's net: real rows plus synthetic rows in every minibatch."""

import math

import numpy as np
import torch
from skorch.callbacks import (
    Callback,
)

from .._nn._lookahead import lookahead_params
from .._nn._loss import per_row_loss
from .._nn._net import Net
from ._decision_nets import decision_logits, entropy_sum
from ._synthesis import AGGREGATIONS, neighbor_masks, synthesize

# -- training ---------------------------------------------------------------


class SeedPool:
    """The rows a fit oversamples, their neighbours and per-epoch budgets.

    Tensors live on the training device. ``budget[i]`` is the number of
    synthetic rows class ``classes[i]`` gets per epoch; a minibatch of ``B``
    of the ``n_train`` real rows gets ``B * budget / n_train`` of them
    (stochastically rounded), seeds drawn uniformly with replacement within
    the class, as SMOTE draws them.

    With ``source_rows``, ``X`` is the training fold and the pool's rows are
    its rows ``source_rows``: they are read from it when drawn (``take``),
    not held as a copy of their own.
    """

    def __init__(
        self,
        X,
        y,
        neighbors,
        n_neighbors,
        budgets,
        n_train,
        weights=None,
        source_rows=None,
    ):
        self.source = X  # (n_pool, ...), or the training fold with source_rows
        self.source_rows = source_rows  # (n_pool,) or None
        self.y = y  # (n_pool,)
        # Missing neighbours (-1) point at the seed itself: their k are masked.
        padded, k_mask = neighbor_masks(
            neighbors.cpu().numpy(), n_neighbors.cpu().numpy()
        )
        self.neighbors = torch.from_numpy(padded).to(X.device)
        self.n_neighbors = n_neighbors
        self.k_mask = torch.from_numpy(k_mask).to(X.device)
        self.rows = {c: torch.nonzero(y == c)[:, 0] for c in budgets}
        # Seeds are drawn in proportion to the rows' sample weights, if any.
        self.row_weights = (
            None
            if weights is None
            else {c: weights[rows] for c, rows in self.rows.items()}
        )
        self.budgets = budgets
        self.n_train = n_train

    def take(self, idx):
        """The pool's rows ``idx`` (an index tensor of any shape), a new tensor."""
        if self.source_rows is None:
            return self.source[idx]
        rows = self.source_rows[idx.reshape(-1)]
        return self.source.index_select(0, rows).reshape(
            *idx.shape, *self.source.shape[1:]
        )

    def draw_seeds(self, n_real, generators):
        """Seed rows for a minibatch of ``n_real`` real rows, drawn from the
        fit's generators (``FitGenerators``: the rounding on the CPU, the
        rows on the device)."""
        seeds = []
        for c, budget in self.budgets.items():
            expected = budget * n_real / self.n_train
            up = torch.rand((), generator=generators.cpu) < expected - int(expected)
            n = int(expected) + int(up)
            rows = self.rows[c]
            if self.row_weights is None:
                pick = torch.randint(
                    len(rows), (n,), device=rows.device, generator=generators.device
                )
            elif n:
                pick = torch.multinomial(
                    self.row_weights[c],
                    n,
                    replacement=True,
                    generator=generators.device,
                )
            else:
                pick = torch.zeros(0, dtype=torch.int64, device=rows.device)
            seeds.append(rows[pick])
        return torch.cat(seeds)


class AutoSMOTENet(Net):
    """skart's net with AutoSMOTE's training step: real rows plus synthetic rows.

    The decision networks are a second module, ``generator_``, so skorch
    optimises them with the classifier and moves them to the device.
    """

    def __init__(
        self,
        *args,
        generator=None,
        pool=None,
        aggregations=AGGREGATIONS,
        min_participation=0.0,
        objective="joint",
        valid=None,
        anchor=0.0,
        decision_lr=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.generator = generator
        self.anchor = anchor
        self.decision_lr = decision_lr
        self.pool = pool
        self.objective = objective
        self.valid = valid
        self.aggregations = aggregations
        self.min_participation = min_participation

    # The pool and the validation fold hold training rows.
    fit_data_attributes = (*Net.fit_data_attributes, "pool", "valid")

    @property
    def float16_refusal(self):
        if self.objective != "bilevel":
            return None
        return (
            "AutoSMOTE's objective='bilevel' differentiates the validation loss "
            "through a gradient step (a second-order gradient, which float16's "
            "range underflows) and sets the gradients by hand, which a gradient "
            "scaler cannot drive (objective='joint' can run in float16)."
        )

    def initialize_module(self):
        super().initialize_module()
        # Moved to the device by skorch; initialised from the fit's generator
        # by skart's Net (DecisionNets.reset_parameters).
        self.generator_ = self.generator()
        return self

    def initialize_optimizer(self, *args, **kwargs):
        # One optimiser; the decision networks in a parameter group of their
        # own at ``decision_lr`` (None: the classifier's ``lr``). The
        # classifier's group stays first: the bilevel look-ahead steps at its
        # rate.
        super().initialize_optimizer(*args, **kwargs)
        if self.decision_lr is None:
            return self
        decision = list(self.generator_.parameters())
        mine = {id(p) for p in decision}
        for group in self.optimizer_.param_groups:
            group["params"] = [p for p in group["params"] if id(p) not in mine]
        self.optimizer_.add_param_group(
            {"params": [p for p in decision if p.requires_grad], "lr": self.decision_lr}
        )
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False, weight=None):
        per_row = per_row_loss(self.criterion_, y_pred, y_true, purpose="AutoSMOTE")
        if not training and self.valid_sample_weight is not None:
            return self.weighted_valid_loss(per_row)
        if weight is None:
            return per_row.mean()
        return (per_row * weight).sum() / weight.sum()

    def draw_synthetic(self, n_real):
        """Synthetic rows for a minibatch of ``n_real`` real rows.

        Returns ``(z, y, participation, penalty)``, where ``participation``
        is the straight-through 0/1 weight of each synthetic row in the loss
        and ``penalty`` the anchor's term of the decision networks' loss
        (:func:`anchor_penalty`, times ``anchor``; None when ``anchor`` is 0
        or no seed was drawn: nothing is computed then).
        """
        pool = self.pool
        generators = self.random_streams
        seeds = pool.draw_seeds(n_real, generators)
        x = pool.take(seeds)
        z, dec = synthesize(
            self.generator_,
            self.aggregations,
            x,
            pool.y[seeds],
            pool.take(pool.neighbors[seeds]),
            pool.n_neighbors[seeds],
            pool.k_mask[seeds],
            self.temperature_,
            generator=generators.device,
        )
        o = dec["draw_participation"]
        if self.min_participation > 0 and len(o):
            # The floor: the seeds most likely to take part are forced in
            # (forward value 1, the gradient of the draw kept).
            p = torch.softmax(dec["participation"].detach(), dim=1)[:, 1]
            n_forced = math.ceil(self.min_participation * len(o))
            forced = torch.zeros_like(o, dtype=torch.bool)
            forced[torch.topk(p, n_forced).indices] = True
            o = torch.where(forced, o - o.detach() + 1.0, o)
        self.participation_sum_ += float(o.detach().sum())
        self.participation_count_ += len(o)
        penalty = None
        if self.anchor > 0 and len(o):
            penalty = self.anchor * anchor_penalty(
                dec, pool.n_neighbors[seeds], self.aggregations
            )
        return z, pool.y[seeds], o, penalty

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        if self.pool is None or not self.pool.budgets:
            return super().train_step_single(batch, **fit_params)
        z, yz, o, penalty = self.draw_synthetic(len(yi))
        X = torch.cat([Xi, z])
        y = torch.cat([yi, yz])
        weight = torch.cat([o.new_ones(len(yi)), o])
        if self.objective == "bilevel" and self.valid is not None:
            # The plain module under compile=True: the look-ahead takes a
            # double backward through this forward, which compiled graphs
            # do not support.
            y_pred = self.run_forward(self.module_, X, **fit_params)
        else:
            y_pred = self.infer(X, **fit_params)
        # L = [sum_real CE + sum_syn o_i CE] / (B + sum o_i)
        loss = self.get_loss(y_pred, y, X=X, training=True, weight=weight)
        if self.objective == "bilevel" and self.valid is not None:
            self._bilevel_gradients(loss, penalty)
        elif penalty is None:
            self.backward(loss)
        else:
            # The penalty depends on the decision networks alone: the
            # classifier's gradients are those of the loss. The reported
            # loss stays the classifier's.
            self.backward(loss + penalty)
        return {"loss": loss, "y_pred": y_pred[: len(yi)]}

    def _bilevel_gradients(self, loss, penalty=None):
        # The classifier descends the training loss; the decision networks
        # descend the validation loss of the classifier after one look-ahead
        # step, theta' = theta - lr * grad_theta L_train(theta, phi) (DARTS'
        # second-order step, through torch.func.functional_call).
        params = [p for p in self.module_.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params, create_graph=True)
        step = self.optimizer_.param_groups[0]["lr"]
        lookahead = lookahead_params(self.module_, grads, step)
        X_valid, y_valid = self.valid
        rows = torch.randint(
            len(y_valid),
            (self.batch_size,),
            device=y_valid.device,
            generator=self.random_streams.device,
        )
        logits = self.run_forward(
            torch.func.functional_call, self.module_, lookahead, (X_valid[rows],)
        )
        # Class-balanced: every class weighs the same in the outer loss, as
        # in the macro-averaged metrics oversampling is meant to improve.
        sample_weight = self.valid_sample_weight
        if sample_weight is None:
            class_weight = 1.0 / torch.bincount(y_valid).clamp_min(1).to(logits.dtype)
            w = class_weight[y_valid[rows]]
            denominator = w.sum()
        else:
            # A class's weight is its rows' total sample weight; each row
            # counts with its own.
            sample_weight = sample_weight.to(logits.dtype)
            totals = torch.bincount(y_valid, weights=sample_weight)
            class_weight = 1.0 / totals.clamp_min(torch.finfo(logits.dtype).tiny)
            w = class_weight[y_valid[rows]] * sample_weight[rows]
            denominator = w.sum().clamp_min(torch.finfo(logits.dtype).tiny)
        losses = per_row_loss(
            self.criterion_, logits, y_valid[rows], purpose="AutoSMOTE"
        )
        valid_loss = (losses * w).sum() / denominator
        if penalty is not None:
            valid_loss = valid_loss + penalty
        generator = [p for p in self.generator_.parameters() if p.requires_grad]
        outer = torch.autograd.grad(valid_loss, generator, allow_unused=True)
        for p, g in zip(params, grads):
            p.grad = g.detach()
        for p, g in zip(generator, outer):
            p.grad = g


# imbalanced-learn's SMOTE default, k_neighbors=5: the SMOTE the anchor is at.
SMOTE_K = 5


def smote_k_index(n_neighbors, k_max):
    """Index (``k - 1``) of SMOTE's neighbour count for seeds with ``n_neighbors``.

    ``k = min(SMOTE_K, k_max, n_neighbors)``, at least 1: SMOTE's
    ``k_neighbors=5`` where the seed has five neighbours within ``k_max``,
    else the largest feasible ``k`` (``linear`` with ``k`` neighbours is
    SMOTE with ``k_neighbors=k``).
    """
    return n_neighbors.clamp(1, min(SMOTE_K, k_max)) - 1


def anchor_penalty(logits, n_neighbors, aggregations):
    """Mean over the seeds of ``KL(smote || q)``, summed over the decisions.

    ``smote`` is SMOTE's point of the decision space, a point mass: take
    part, ``k`` from :func:`smote_k_index`, ``linear``. The KL divergence
    from a point mass is the cross-entropy ``-log q(smote's choice)``. The
    ``k`` distribution is the softmax over the feasible ``k`` only (the
    logits of the others are ``-inf``), so the target is always feasible.
    Without ``"linear"`` among ``aggregations`` the aggregation has no
    SMOTE point and no term.

    Parameters
    ----------
    logits : dict of torch.Tensor
        The decision logits of the step's seeds (:func:`synthesize`'s
        ``"participation"`` (n, 2), ``"k"`` (n, K), ``"aggregation"`` (n, A)).
    n_neighbors : torch.Tensor of shape (n,)
        Feasible neighbours of each seed.
    aggregations : sequence of str
        The aggregations, in the order of the logits.
    """
    log_p = torch.log_softmax(logits["participation"], dim=1)[:, 1]
    log_k = torch.log_softmax(logits["k"], dim=1)
    target = smote_k_index(n_neighbors, log_k.shape[1])
    nll = -log_p - log_k.gather(1, target[:, None])[:, 0]
    if "linear" in aggregations:
        log_a = torch.log_softmax(logits["aggregation"], dim=1)
        nll = nll - log_a[:, list(aggregations).index("linear")]
    return nll.mean()


class DecisionMonitor(Callback):
    """Set each epoch's Gumbel temperature and record the decisions in the history.

    Per epoch: ``temperature``, ``participation`` (share of the epoch's
    synthetic draws that took part; NaN when none was drawn) and the mean
    entropy (nats) of each decision's distribution over the training fold's
    seeds: ``entropy_participation``, ``entropy_k``, ``entropy_aggregation``
    and, in the cohort variant, ``entropy_cohort``.
    """

    def __init__(self, temperatures):
        self.temperatures = temperatures

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        net.temperature_ = self.temperatures[min(epoch, len(self.temperatures) - 1)]
        net.participation_sum_ = 0.0
        net.participation_count_ = 0
        net.history.record("temperature", net.temperature_)

    def on_epoch_end(self, net, **kwargs):
        count = net.participation_count_
        net.history.record(
            "participation", net.participation_sum_ / count if count else math.nan
        )
        pool = net.pool
        if pool is None or len(pool.y) == 0:
            return
        sums = {}
        for logits in decision_logits(
            net.generator_, pool.source, pool.y, pool.k_mask, pool.source_rows
        ):
            for name in ("participation", "k", "aggregation", "cohort_logits"):
                if name in logits:
                    sums[name] = sums.get(name, 0.0) + entropy_sum(logits[name])
        for name, total in sums.items():
            key = "cohort" if name == "cohort_logits" else name
            net.history.record(f"entropy_{key}", float(total) / len(pool.y))


def temperature_schedule(temperature, schedule, min_temperature, n_epochs):
    """The Gumbel temperature of each epoch (a list of ``n_epochs`` floats)."""
    if schedule == "constant" or min_temperature >= temperature:
        return [float(temperature)] * n_epochs
    # exponential: tau_t = tau_0 * (tau_min / tau_0) ** (t / (T - 1)), from
    # tau_0 at the first epoch to tau_min at the last.
    t = np.arange(n_epochs) / max(n_epochs - 1, 1)
    return list(temperature * (min_temperature / temperature) ** t)
