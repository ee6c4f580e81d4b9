"""AutoSMOTEClassifier: oversampling decisions learned end to end with a classifier.

AutoSMOTE (arXiv 2502.06878, "Deep Learning Meets Oversampling") makes three
discrete decisions per minority row: whether it seeds a synthetic row, how
many of its nearest same-class neighbours take part (1 to ``k_max``), and
which aggregation turns them into one point. Small networks give the logits,
straight-through Gumbel-softmax makes the choices differentiable, and the
decision networks train with the classifier on one loss. Only a summary of
the paper is public, so every step it leaves open is completed here by a
choice of ours, named as such in :class:`AutoSMOTEClassifier`'s docstring.

The network machinery (routed parameters, input checks, split, seeding,
device, history, prediction) is :mod:`skart._base`'s; this module holds the
decision networks, the synthetic-row construction and the training step.
"""

import functools
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy
from sklearn.base import _fit_context
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.callbacks import Callback
from torch import nn

from ._base import BaseNetClassifier, Net
from ._validation import check_X

AGGREGATIONS = ("linear", "min", "max", "sum", "average", "weighted")


# -- Gumbel-softmax ---------------------------------------------------------


def gumbel_softmax(logits, temperature, *, hard=True, generator=None):
    """Draw a (straight-through) Gumbel-softmax sample along the last axis.

    ``softmax((logits + G) / temperature)`` with ``G`` standard Gumbel noise.
    With ``hard=True`` the forward value is the one-hot vector of the argmax
    (a draw from ``softmax(logits)``, the Gumbel-max trick) and the gradient
    is that of the soft sample. Logits of ``-inf`` (masked choices) are never
    drawn.
    """
    u = torch.rand(
        logits.shape, generator=generator, device=logits.device, dtype=logits.dtype
    )
    tiny = torch.finfo(logits.dtype).tiny
    gumbel = -torch.log(-torch.log(u.clamp(tiny, 1.0 - 1e-7)))
    soft = torch.softmax((logits + gumbel) / temperature, dim=-1)
    if not hard:
        return soft
    one_hot = F.one_hot(soft.argmax(dim=-1), logits.shape[-1]).to(soft.dtype)
    return one_hot - soft.detach() + soft


# -- synthetic rows ---------------------------------------------------------


def candidates(x, neighbors, aggregations, lam, u, weight_logits=None):
    """Every synthetic point a seed can give: one per (k, aggregation).

    ``S_k = {x} U {n_1, ..., n_k}`` is the seed with its ``k`` nearest
    neighbours. ``linear`` is SMOTE's ``x + lam * (n_j - x)`` with ``j``
    uniform among the ``k`` neighbours (``j = floor(u * k)``); ``min``,
    ``max``, ``sum`` and ``average`` are element-wise over ``S_k``;
    ``weighted`` is ``sum_j w_j s_j`` over ``S_k`` with ``w`` the softmax of
    the first ``k + 1`` weight logits.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Seeds.
    neighbors : torch.Tensor of shape (n, K, d)
        Their ``K`` nearest same-class neighbours, nearest first.
    aggregations : sequence of str
        Names from ``AGGREGATIONS``, in the order of the output.
    lam, u : torch.Tensor of shape (n,)
        Uniform draws in [0, 1) of the interpolation step and the neighbour.
    weight_logits : torch.Tensor of shape (n, K + 1), default=None
        Needed for ``weighted``.

    Returns
    -------
    torch.Tensor of shape (n, K, len(aggregations), d)
        Candidate ``[i, k - 1, a]`` uses ``k`` neighbours and aggregation ``a``.
    """
    S = torch.cat([x[:, None], neighbors], dim=1)  # (n, K + 1, d)
    out = [
        _aggregate(name, x, neighbors, S, lam, u, weight_logits)
        for name in aggregations
    ]
    return torch.stack(out, dim=2)


def _aggregate(name, x, neighbors, S, lam, u, weight_logits):
    """The candidates ``(n, K, d)`` of one aggregation, for k = 1..K
    (``S`` is the seeds stacked before their neighbours)."""
    n, K, _ = neighbors.shape
    k = torch.arange(1, K + 1, device=x.device)
    if name == "linear":
        j = torch.minimum((u[:, None] * k).long(), k - 1)  # (n, K)
        picked = neighbors[torch.arange(n, device=x.device)[:, None], j]
        return x[:, None] + lam[:, None, None] * (picked - x[:, None])
    if name in ("min", "max"):
        # A running extremum: cummin/cummax would also build int64 indices.
        op = torch.minimum if name == "min" else torch.maximum
        out, run = torch.empty_like(neighbors), x
        for j in range(K):
            run = op(run, neighbors[:, j])
            out[:, j] = run
        return out
    if name == "sum":
        return torch.cumsum(S, dim=1)[:, 1:]
    if name == "average":
        return torch.cumsum(S, dim=1)[:, 1:] / (k + 1)[None, :, None].to(x.dtype)
    # weighted
    j = torch.arange(K + 1, device=x.device)
    allowed = j[None, :] <= k[:, None]  # (K, K + 1): S_k holds k + 1 rows
    logits = weight_logits[:, None, :].masked_fill(~allowed, -math.inf)
    return torch.einsum("nkj,njd->nkd", torch.softmax(logits, dim=-1), S)


def chosen_candidates(x, neighbors, aggregations, lam, u, weight_logits, k, a):
    """The straight-through synthetic rows of one-hot draws ``k`` and ``a``.

    Equal in value to the chosen candidate ``candidates(...)[i, k_i, a_i]``
    and in gradient to ``einsum("nk,na,nkad->nd", k, a, candidates(...))``,
    without the ``(n, K, A, d)`` tensor: the gradient of the draw of ``k``
    needs the candidates of every ``k`` under the chosen aggregation, that of
    ``a`` those of every aggregation under the chosen ``k``, so one
    ``(n, K, d)`` and one ``(n, A, d)`` tensor are kept, built one
    aggregation at a time.

    Parameters
    ----------
    x, neighbors, aggregations, lam, u, weight_logits
        As for :func:`candidates`.
    k : torch.Tensor of shape (n, K)
        Straight-through one-hot draws of the neighbour count.
    a : torch.Tensor of shape (n, len(aggregations))
        Straight-through one-hot draws of the aggregation.

    Returns
    -------
    torch.Tensor of shape (n, d)
    """
    n, K, d = neighbors.shape
    rows = torch.arange(n, device=x.device)
    k_star, a_star = k.detach().argmax(dim=1), a.detach().argmax(dim=1)
    S = torch.cat([x[:, None], neighbors], dim=1)  # (n, K + 1, d)
    by_k = x.new_zeros(n, K, d)  # every k under each row's aggregation
    by_a = x.new_empty(n, len(aggregations), d)  # every aggregation, row's k
    weighted = None  # the aggregation with a gradient (of its weight logits)
    mine = F.one_hot(a_star, len(aggregations)).bool()  # (n, A)
    for i, name in enumerate(aggregations):
        c = _aggregate(name, x, neighbors, S, lam, u, weight_logits)
        at_k = c[rows, k_star]  # (n, d)
        if c.requires_grad:
            weighted = (i, at_k)
            c, at_k = c.detach(), at_k.detach()
        by_a[:, i] = at_k
        torch.where(mine[:, i, None, None], c, by_k, out=by_k)
        del c
    chosen = by_k[rows, k_star]
    if weighted is not None:  # the same values, with their gradient
        i, value = weighted
        chosen = torch.where(mine[:, i, None], value, chosen)
    # Straight-through terms: zero in value, the draws' gradients.
    dk = torch.bmm((k - k.detach())[:, None], by_k)  # (n, 1, d)
    da = torch.bmm((a - a.detach())[:, None], by_a)
    return chosen + (dk + da)[:, 0]


def class_neighbors(X, y, k_max, rows=None):
    """The ``k_max`` nearest neighbours of every row among the rows of its class.

    Parameters
    ----------
    X : ndarray of shape (n_rows, d)
        Rows.
    y : ndarray of shape (n,)
        Classes of the rows ``rows`` of ``X`` (of all of them if ``rows`` is
        None).
    k_max : int
        Neighbours per row.
    rows : ndarray of int of shape (n,), default=None
        The rows of ``X`` to search, read a class at a time: only one class's
        rows are copied at once.

    Returns
    -------
    neighbors : ndarray of int64 of shape (n, k_max)
        Positions in ``y``, nearest first; a class of ``n_c`` rows has
        ``n_c - 1`` neighbours at most and the missing ones are ``-1``. A row
        is never its own neighbour, a duplicate of it may be.
    n_neighbors : ndarray of shape (n,)
        Feasible neighbours per row, ``min(k_max, n_c - 1)``.
    """
    neighbors = np.full((len(y), k_max), -1, dtype=np.int64)
    n_neighbors = np.zeros(len(y), dtype=np.int64)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        k = min(k_max, len(members) - 1)
        n_neighbors[members] = k
        if k == 0:
            continue
        X_c = X[members if rows is None else rows[members]]
        # kneighbors() without X: each fitted row's neighbours but itself.
        idx = NearestNeighbors(n_neighbors=k).fit(X_c).kneighbors()[1]
        neighbors[members, :k] = members[idx]
        del X_c
    return neighbors, n_neighbors


# -- decision networks ------------------------------------------------------


def _mlp(n_in, hidden, n_out):
    layers, width = [], n_in
    for units in hidden:
        layers += [nn.Linear(width, units), nn.ReLU()]
        width = units
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class DecisionNets(nn.Module):
    """The decision networks of AutoSMOTE (self or cohort variant).

    Input of every network: the row and the one-hot code of its class.
    ``variant="self"``: one small MLP per decision gives each row its own
    logits. ``variant="cohort"``: one MLP assigns the row to one of
    ``n_cohorts`` cohorts (a Gumbel-softmax draw) and each cohort has one
    learned logit vector per decision, shared by its members.
    """

    def __init__(
        self,
        n_features,
        n_classes,
        *,
        variant,
        n_cohorts,
        k_max,
        n_aggregations,
        weighted,
        hidden_units,
    ):
        super().__init__()
        self.n_classes = n_classes
        self.variant = variant
        self.sizes = {"participation": 2, "k": k_max, "aggregation": n_aggregations}
        if weighted:
            self.sizes["weights"] = k_max + 1
        n_in = n_features + n_classes
        if variant == "self":
            self.heads = nn.ModuleDict(
                {d: _mlp(n_in, hidden_units, s) for d, s in self.sizes.items()}
            )
        else:
            self.cohort = _mlp(n_in, hidden_units, n_cohorts)
            self.tables = nn.ParameterDict(
                {
                    d: nn.Parameter(0.1 * torch.randn(n_cohorts, s))
                    for d, s in self.sizes.items()
                }
            )

    def _inputs(self, x, c):
        return torch.cat([x, F.one_hot(c, self.n_classes).to(x.dtype)], dim=1)

    def forward(self, x, c, k_mask, temperature=1.0, *, hard=True, generator=None):
        """Logits of every decision; in the cohort variant, after a cohort draw.

        Returns a dict of logits (``-inf`` at infeasible neighbour counts),
        plus ``"cohort"`` (the drawn one-hot cohorts) in the cohort variant.
        With ``hard=False`` the cohort variant takes each row's most likely
        cohort instead of drawing one.
        """
        h = self._inputs(x, c)
        if self.variant == "self":
            out = {d: head(h) for d, head in self.heads.items()}
        else:
            cohort_logits = self.cohort(h)
            g = (
                gumbel_softmax(cohort_logits, temperature, generator=generator)
                if hard
                else F.one_hot(cohort_logits.argmax(1), cohort_logits.shape[1]).to(
                    h.dtype
                )
            )
            out = {d: g @ table for d, table in self.tables.items()}
            out["cohort"] = g
            out["cohort_logits"] = cohort_logits
        out["k"] = out["k"].masked_fill(~k_mask, -math.inf)
        return out


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
        own = torch.arange(len(y), device=X.device)[:, None]
        self.neighbors = torch.where(neighbors >= 0, neighbors, own)
        self.n_neighbors = n_neighbors
        self.k_mask = (
            torch.arange(neighbors.shape[1], device=X.device)[None, :]
            < n_neighbors[:, None]
        )
        self.k_mask[:, 0] |= n_neighbors == 0  # keep a finite softmax; see below
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

    def draw_seeds(self, n_real):
        seeds = []
        for c, budget in self.budgets.items():
            expected = budget * n_real / self.n_train
            n = int(expected) + int(torch.rand(()) < expected - int(expected))
            rows = self.rows[c]
            if self.row_weights is None:
                pick = torch.randint(len(rows), (n,), device=rows.device)
            elif n:
                pick = torch.multinomial(self.row_weights[c], n, replacement=True)
            else:
                pick = torch.zeros(0, dtype=torch.int64, device=rows.device)
            seeds.append(rows[pick])
        return torch.cat(seeds)


def synthesize(
    nets,
    aggregations,
    x,
    c,
    neighbors,
    n_neighbors,
    k_mask,
    temperature,
    *,
    generator=None,
):
    """Decide for each seed and build its synthetic row.

    Returns ``(z, decisions)``: the synthetic rows ``(n, d)`` (a seed without
    neighbours, from a one-row class, gives a copy of itself) and the
    decision dict of :meth:`DecisionNets.forward` with the straight-through
    samples ``"participation"`` ``(n,)``, ``"k"`` ``(n, K)`` and
    ``"aggregation"`` ``(n, A)`` added under ``"draw_*"``.
    """
    logits = nets(x, c, k_mask, temperature, generator=generator)
    yk = gumbel_softmax(logits["k"], temperature, generator=generator)
    ya = gumbel_softmax(logits["aggregation"], temperature, generator=generator)
    yo = gumbel_softmax(logits["participation"], temperature, generator=generator)
    n = len(x)
    lam = torch.rand(n, generator=generator, device=x.device, dtype=x.dtype)
    u = torch.rand(n, generator=generator, device=x.device, dtype=x.dtype)
    z = chosen_candidates(
        x, neighbors, aggregations, lam, u, logits.get("weights"), yk, ya
    )
    z = torch.where((n_neighbors == 0)[:, None], x, z)
    logits.update(draw_participation=yo[:, 1], draw_k=yk, draw_aggregation=ya)
    return z, logits


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
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.generator = generator
        self.pool = pool
        self.objective = objective
        self.valid = valid
        self.aggregations = aggregations
        self.min_participation = min_participation

    def initialize_module(self):
        super().initialize_module()
        self.generator_ = self.generator().to(self.device)
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False, weight=None):
        # The criterion gives one loss per row (reduction="none").
        per_row = self.criterion_(y_pred, y_true)
        if not training and self.valid_sample_weight is not None:
            return self.weighted_valid_loss(per_row)
        if weight is None:
            return per_row.mean()
        return (per_row * weight).sum() / weight.sum()

    def draw_synthetic(self, n_real):
        """Synthetic rows for a minibatch of ``n_real`` real rows.

        Returns ``(z, y, participation)``, where ``participation`` is the
        straight-through 0/1 weight of each synthetic row in the loss.
        """
        pool = self.pool
        seeds = pool.draw_seeds(n_real)
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
        return z, pool.y[seeds], o

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        if self.pool is None or not self.pool.budgets:
            return super().train_step_single(batch, **fit_params)
        z, yz, o = self.draw_synthetic(len(yi))
        X = torch.cat([Xi, z])
        y = torch.cat([yi, yz])
        weight = torch.cat([o.new_ones(len(yi)), o])
        y_pred = self.infer(X, **fit_params)
        # L = [sum_real CE + sum_syn o_i CE] / (B + sum o_i)
        loss = self.get_loss(y_pred, y, X=X, training=True, weight=weight)
        if self.objective == "bilevel" and self.valid is not None:
            self._bilevel_gradients(loss)
        else:
            loss.backward()
        return {"loss": loss, "y_pred": y_pred[: len(yi)]}

    def _bilevel_gradients(self, loss):
        # The classifier descends the training loss; the decision networks
        # descend the validation loss of the classifier after one look-ahead
        # step, theta' = theta - lr * grad_theta L_train(theta, phi) (DARTS'
        # second-order step, through torch.func.functional_call).
        names, params = zip(
            *((n, p) for n, p in self.module_.named_parameters() if p.requires_grad)
        )
        grads = torch.autograd.grad(loss, params, create_graph=True)
        step = self.optimizer_.param_groups[0]["lr"]
        lookahead = {n: p - step * g for n, p, g in zip(names, params, grads)}
        X_valid, y_valid = self.valid
        rows = torch.randint(len(y_valid), (self.batch_size,), device=y_valid.device)
        logits = torch.func.functional_call(self.module_, lookahead, (X_valid[rows],))
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
        valid_loss = (self.criterion_(logits, y_valid[rows]) * w).sum() / denominator
        generator = [p for p in self.generator_.parameters() if p.requires_grad]
        outer = torch.autograd.grad(valid_loss, generator, allow_unused=True)
        for p, g in zip(params, grads):
            p.grad = g.detach()
        for p, g in zip(generator, outer):
            p.grad = g


def entropy_sum(logits):
    """Summed entropy (nats, float64) of the distributions ``softmax(logits)``."""
    p = torch.softmax(logits, dim=-1)
    return torch.special.entr(p).sum(-1).double().sum()


# Rows of the decision networks' whole-pool passes run at a time (at the end of
# each epoch and of the fit): what they hold is bounded by a block, not the pool.
BLOCK_ROWS = 8192


def decision_logits(nets, X, y, k_mask, rows=None, block_rows=BLOCK_ROWS):
    """The decision logits (``hard=False``, no gradient) a block of rows at a time.

    Yields the logits dict of each block of ``block_rows`` rows, in order (one
    empty block when there is no row): of the rows of ``X``, or of its rows
    ``rows`` (read a block at a time, never all copied at once).
    """
    n = len(y)
    for start in range(0, max(n, 1), block_rows):  # one block when empty
        s = slice(start, start + block_rows)
        # Grad mode is switched off per block, not around the yield, so the
        # caller's code between blocks runs in its own mode.
        with torch.no_grad():
            X_s = X[s] if rows is None else X.index_select(0, rows[s])
            logits = nets(X_s, y[s], k_mask[s], hard=False)
        yield logits


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


class AutoSMOTEClassifier(BaseNetClassifier):
    """Neural network classifier trained with oversampling decisions learned end to end.

    AutoSMOTE [1]_ makes three discrete decisions for each row of a class to
    oversample: whether it seeds a synthetic row (*participation*), how many
    of its nearest neighbours of the same class take part (*k*, 1 to
    ``k_max``), and how they are combined (*aggregation*: SMOTE's linear
    interpolation, element-wise min, max, sum, average, or a learned
    weighted average). Small networks give the logits of each decision,
    straight-through Gumbel-softmax draws them, and the synthetic rows join
    every minibatch of the classifier. The decision networks and the
    classifier (an :class:`MLP` by default) are trained together, in the
    same steps of one Adam optimiser. Prediction uses the classifier alone.

    ``variant="self"`` decides per row; ``variant="cohort"`` assigns each row
    to one of ``n_cohorts`` learned cohorts that share their decisions.

    The paper's public summary fixes the decisions, their ranges, the
    variants, Gumbel-softmax, joint training with Adam at ``lr=0.05``,
    cross-entropy and 200 epochs. **Everything else is our completion**,
    including the default objective of the decision networks, which departs
    from the literal joint reading on evidence (see *Loss*):

    * *Gumbel-softmax*: straight-through (the forward pass uses one choice,
      the gradient flows through the soft sample); constant temperature 1 by
      default, optionally annealed (``temperature_schedule``).
    * *Decision networks*: input ``[x, onehot(class)]``, one hidden layer of
      32 ReLU units. Cohort variant: an MLP draws the cohort; each cohort has
      one learned logit vector per decision.
    * *Aggregations* over ``S_k``, the seed with its ``k`` nearest
      neighbours: ``linear`` is SMOTE (a random neighbour among the ``k``, a
      uniform step); ``min``, ``max``, ``sum``, ``average`` are element-wise
      over ``S_k`` (``sum`` as named: it leaves the data's range, so the
      features should be standardised, and ``aggregations`` can drop it);
      ``weighted`` is a convex combination of ``S_k`` with learned weights.
    * *Budget*: ``sampling_strategy`` in imbalanced-learn's sense, applied to
      the training fold, sets the synthetic rows per class and epoch
      ("auto": up to the majority's count); they are spread over the
      minibatches in proportion to their size, seeds drawn uniformly with
      replacement within the class.
    * *Loss*: the classifier minimises
      ``[sum_real CE + sum_synthetic o_i CE] / (B + sum o_i)`` with ``o_i``
      the 0/1 participation draw. The decision networks, by default
      (``objective="bilevel"``), minimise the class-balanced cross-entropy
      on a validation minibatch of the classifier after one look-ahead step
      on that loss. The paper's literal joint objective
      (``objective="joint"``: the decision networks minimise the training
      loss too) drove them, in our measurements, to far-away ``sum`` points
      that are trivial to classify and once to no participation; the
      bilevel objective ranked first of eight methods over seven data sets
      (``docs/benchmarks_autosmote.md``). ``min_participation`` forces the
      seeds most likely to take part in up to that share, and the history
      records participation and entropies.
    * *Neighbours*: computed once, in input space, among the training rows
      of the same class (scikit-learn's ``NearestNeighbors``). A class of
      ``n_c <= k_max`` rows has ``n_c - 1`` neighbours: the larger ``k`` are
      masked (never drawn). A class of one row has none: its synthetic rows
      are copies of it (random oversampling), with a warning.
    * *Validation fold and early stopping* come from skart's shared
      machinery; early stopping is off by default (the paper trains 200
      epochs).

    This is not the reinforcement-learning AutoSMOTE of Zha et al. (CIKM
    2022). Features must be numeric and are best standardised: every
    candidate is built in input space.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The classifier; it must return logits of shape ``(n, n_classes)``.
        ``None`` means :class:`MLP`.
    variant : {"cohort", "self"}, default="cohort"
        Decisions shared by learned cohorts, or made per row.
    n_cohorts : int, default=3
        Number of cohorts of the cohort variant (the paper searches 1 to 7).
    k_max : int, default=6
        Largest number of neighbours a seed may use.
    aggregations : tuple of str, default=("linear", "min", "max", "sum", "average", "weighted")
        The aggregations to choose from, a non-empty subset of these names.
    temperature : float, default=1.0
        Gumbel-softmax temperature (> 0), at the first epoch.
    temperature_schedule : {"constant", "exponential"}, default="constant"
        ``"exponential"`` anneals the temperature geometrically from
        ``temperature`` at the first epoch to ``min_temperature`` at the last.
    min_temperature : float, default=0.5
        Final temperature of the exponential schedule.
    decision_hidden_units : tuple of int, default=(32,)
        Hidden layer widths of each decision network.
    min_participation : float in [0, 1], default=0.0
        Floor on the share of a minibatch's seeds that take part; ``1``
        makes every seed take part.
    objective : {"bilevel", "joint"}, default="bilevel"
        ``"bilevel"`` (ours) trains the decision networks on the
        class-balanced validation loss of the classifier after a one-step
        look-ahead on the training loss (DARTS' second-order step), so that
        they are rewarded for rows that help the rare classes on held-out
        data rather than rows that are easy to fit; a step costs about
        three times a joint one, and the validation fold also trains the
        decision networks. ``"joint"`` (the paper's literal reading) trains
        them on the training loss, with the classifier.
    sampling_strategy : float, str, dict or callable, default="auto"
        The synthetic rows per class and epoch, as imbalanced-learn's
        over-samplers read it, on the training fold.
    art : bool, default=False
        Draw the real rows with ART's class sampler (see
        :class:`ARTClassifier`) in addition; use a ``sampling_strategy``
        below balance with it.
    c : float in [0, 1], default=0.5
        ART's prior weight (with ``art=True``).
    bf : int >= 1, default=1
        ART's boost frequency (with ``art=True``).
    metric : {"f1", "recall", "precision"} or callable, default="f1"
        Per-class metric on the validation fold, recorded in the history.
    smooth : float >= 0, default=1.0
        ART's shrinkage of the per-class scores towards their mean, in
        validation rows (with ``art=True``; see :class:`ARTClassifier`).
    validation_fraction : float in (0, 1), default=0.15
        Share of each class held out for the validation fold.
    criterion : torch.nn.Module class, default=None
        Loss class; it is built with ``reduction="none"``. ``None`` means
        cross-entropy.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        One optimizer for the classifier and the decision networks.
    lr : float, default=0.05
        Learning rate (the paper's).
    max_epochs : int, default=200
        Maximum number of epochs (the paper's).
    batch_size : int, default=128
        Real rows per minibatch (synthetic rows come on top).
    patience : int or None, default=None
        Early stopping patience on what ``monitor`` watches; ``None`` trains
        for ``max_epochs``.
    monitor : {"loss", "metric", "loss_or_metric"}, default="loss"
        What early stopping watches on the validation fold, as in
        :class:`~skart.ARTClassifier`: the loss, the mean per-class
        ``metric``, or either (training goes on while one improves; the best
        metric epoch is restored).
    lr_schedule : {"cosine"} or None, default=None
        Cosine annealing of the learning rate over ``max_epochs``.
    device : str or torch.device, default="cpu"
        Where the networks train.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra callbacks.
    verbose : int, default=0
        0 is silent, 1 prints an epoch table, 2 adds a progress bar.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the draws and torch, so that ``fit`` is reproducible
        on CPU.
    decision : {"argmax", "tuned"}, default="argmax"
        The rule of ``predict``: the most probable class, or per-class offsets
        on the log-probabilities fitted on the validation fold after training
        (a decision threshold for two classes), as in
        :class:`~skart.ARTClassifier`.
    warm_start : bool, default=False
        If True, a second ``fit`` continues the fitted classifier *and*
        decision networks (``net_.generator_``): their weights, the shared
        optimiser's state and the history go on for ``max_epochs`` more
        epochs (the learning rate starts a new cosine cycle; the temperature
        schedule goes on from the epoch reached). The data must have the same
        features and classes, and the parameters the same networks
        (``k_max``, ``aggregations``, ``variant``, ...); the validation fold,
        the seeds and their neighbours are drawn from the new data.
    **kwargs
        Routed parameters: ``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``.

    Attributes
    ----------
    decision_offsets_ : ndarray of shape (n_classes,)
        Offsets added to the log-probabilities before ``predict``'s argmax
        (zeros with ``decision="argmax"``).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` is a DataFrame with string column names.
    net_ : skorch.NeuralNetClassifier
        The fitted net; ``net_.generator_`` holds the decision networks.
    history_ : skorch.History
        One row per epoch: ``train_loss``, ``valid_loss``, ``class_scores``,
        ``temperature``, ``participation``, ``entropy_participation``,
        ``entropy_k``, ``entropy_aggregation`` (and ``entropy_cohort``).
    class_counts_ : ndarray of shape (n_classes,)
        Rows per class in the training fold.
    sampling_strategy_ : dict
        Synthetic rows per class label and epoch.
    decision_distributions_ : dict of ndarray
        For each seed (a training-fold row of a class that is oversampled):
        ``"participation"`` (probability of taking part), ``"k"``
        (probabilities of 1 to ``k_max`` neighbours) and ``"aggregation"``
        (probabilities over ``aggregations``); in the cohort variant, those
        of the seed's most likely cohort.
    seed_classes_ : ndarray of shape (n_seeds,)
        Class label of each seed.
    cohort_assignments_ : ndarray of shape (n_seeds,) or None
        Most likely cohort of each seed; ``None`` in the self variant.
    neighbors_ : ndarray of shape (n_seeds, k_max)
        Each seed's nearest neighbours of its class, as positions among the
        seeds (``-1`` where the class has too few rows).
    sampling_distribution_ : ndarray of shape (n_classes,)
        Class distribution of the real rows at the end of training.
    n_iter_ : int
        Epochs run.

    See Also
    --------
    skart.over_sampling.AutoSMOTE : The learned decisions as an
        imbalanced-learn over-sampler.

    References
    ----------
    .. [1] Kishanthan and Hevapathige, "Deep Learning Meets Oversampling: A
       Learning Framework to Handle Imbalanced Classification",
       arXiv:2502.06878, 2025.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skart import AutoSMOTEClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = AutoSMOTEClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> sorted(clf.decision_distributions_)
    ['aggregation', 'k', 'participation']
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in BaseNetClassifier._parameter_constraints.items()
            if k != "criterion"
        },
        "criterion": [None, type],
        "variant": [StrOptions({"self", "cohort"})],
        "n_cohorts": [Interval(Integral, 1, None, closed="left")],
        "k_max": [Interval(Integral, 1, None, closed="left")],
        "aggregations": [tuple, list],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "temperature_schedule": [StrOptions({"constant", "exponential"})],
        "min_temperature": [Interval(Real, 0, None, closed="neither")],
        "decision_hidden_units": [tuple, list],
        "min_participation": [Interval(Real, 0, 1, closed="both")],
        "objective": [StrOptions({"joint", "bilevel"})],
        "sampling_strategy": BaseOverSampler._parameter_constraints[
            "sampling_strategy"
        ],
    }

    _net_class = AutoSMOTENet

    def __init__(
        self,
        module=None,
        *,
        variant="cohort",
        n_cohorts=3,
        k_max=6,
        aggregations=AGGREGATIONS,
        temperature=1.0,
        temperature_schedule="constant",
        min_temperature=0.5,
        decision_hidden_units=(32,),
        min_participation=0.0,
        objective="bilevel",
        sampling_strategy="auto",
        art=False,
        c=0.5,
        bf=1,
        metric="f1",
        smooth=1.0,
        validation_fraction=0.15,
        criterion=None,
        optimizer=torch.optim.Adam,
        lr=0.05,
        max_epochs=200,
        batch_size=128,
        patience=None,
        monitor="loss",
        lr_schedule=None,
        device="cpu",
        callbacks=None,
        verbose=0,
        random_state=None,
        decision="argmax",
        warm_start=False,
        **kwargs,
    ):
        self.module = module
        self.variant = variant
        self.n_cohorts = n_cohorts
        self.k_max = k_max
        self.aggregations = aggregations
        self.temperature = temperature
        self.temperature_schedule = temperature_schedule
        self.min_temperature = min_temperature
        self.decision_hidden_units = decision_hidden_units
        self.min_participation = min_participation
        self.objective = objective
        self.sampling_strategy = sampling_strategy
        self.art = art
        self.c = c
        self.bf = bf
        self.metric = metric
        self.smooth = smooth
        self.validation_fraction = validation_fraction
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.device = device
        self.callbacks = callbacks
        self.verbose = verbose
        self.random_state = random_state
        self.decision = decision
        self.monitor = monitor
        self.warm_start = warm_start
        vars(self).update(kwargs)

    def _check_aggregations(self):
        unknown = [a for a in self.aggregations if a not in AGGREGATIONS]
        if unknown or not len(self.aggregations):
            raise ValueError(
                f"aggregations={tuple(self.aggregations)!r} "
                + (f"has unknown names {unknown}. " if unknown else "is empty. ")
                + f"Choose a non-empty subset of {AGGREGATIONS}."
            )
        if len(set(self.aggregations)) != len(self.aggregations):
            raise ValueError(
                f"aggregations={tuple(self.aggregations)!r} names an aggregation "
                "twice; give each at most once."
            )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_val=None, y_val=None, sample_weight=None):
        """Train the classifier and the decision networks together.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, numeric (dense; a DataFrame is fine).
        y : array-like of shape (n_samples,)
            Class labels of any type ``LabelEncoder`` accepts.
        X_val : array-like of shape (n_val, n_features), default=None
            A validation set of your own; ``None`` holds out
            ``validation_fraction`` of each class of ``X``.
        y_val : array-like of shape (n_val,), default=None
            Labels of ``X_val``, all among the labels of ``y``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows of ``X``. Real rows are drawn in
            proportion to them (as in :class:`~skart.ARTClassifier`); seeds
            are drawn within their class in proportion to them, and a row of
            weight 0 is neither seed nor neighbour; ``sampling_strategy``
            reads each class's size as its share of the total weight; the
            validation loss (early stopping, and the class-balanced outer
            loss of ``objective="bilevel"``) and scores are weighted. A weight
            of 0 acts as removing the row, an integer weight (statistically)
            as repeating it (repeated rows would also be each other's
            nearest neighbours, weighted rows are not), and equal weights
            give the same model as none. ``X_val`` is scored unweighted.

        Returns
        -------
        self : AutoSMOTEClassifier
            The fitted classifier.
        """
        self._check_aggregations()
        # Candidates are built in input space: rows must be dense 2-d vectors.
        fitted = {
            k: v
            for k, v in vars(self).items()
            if k in ("n_features_in_", "feature_names_in_")
        }
        check_X(self, X, reset=True, accept_sparse=False, allow_nd=False)
        if self.warm_start:
            # _fit compares the new data with the fitted: keep what was fitted.
            vars(self).update(fitted)
        return self._fit(X, y, X_val=X_val, y_val=y_val, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # candidates are built on dense rows
        return tags

    # -- hooks --------------------------------------------------------------

    def _net_kwargs(self, data):
        generator = functools.partial(
            DecisionNets,
            data.n_features,
            len(self.classes_),
            variant=self.variant,
            n_cohorts=self.n_cohorts,
            k_max=self.k_max,
            n_aggregations=len(self.aggregations),
            weighted="weighted" in self.aggregations,
            hidden_units=tuple(self.decision_hidden_units),
        )
        kwargs = {
            "generator": generator,
            "aggregations": tuple(self.aggregations),
            "min_participation": self.min_participation,
            "objective": self.objective,
            "criterion__reduction": "none",
        }
        if data.y_train is None:
            # load_fitted: the decision networks without a pool of seeds
            # (their weights and sampling_strategy_ come from the file).
            return kwargs
        return {**kwargs, **self._seed_pool(data)}

    def _seed_pool(self, data):
        """The pool of seeds and the validation fold of the bilevel step."""
        labels = self.classes_[data.y_train]
        if data.w_train is not None:
            # The strategy reads class sizes: in a weighted fit, the rows an
            # epoch draws of each class (its share of the total weight).
            share = (
                np.bincount(data.y_train, data.w_train, minlength=len(self.classes_))
                / data.w_train.sum()
            )
            sizes = np.round(share * len(data.y_train)).astype(np.int64)
            labels = np.repeat(self.classes_, sizes)
        strategy = check_sampling_strategy(
            self.sampling_strategy, labels, "over-sampling"
        )
        self.sampling_strategy_ = dict(strategy)
        budgets = {
            int(np.searchsorted(self.classes_, label)): int(n)
            for label, n in strategy.items()
            if n > 0
        }
        in_pool = np.isin(data.y_train, list(budgets))
        if data.w_train is not None:
            in_pool &= data.w_train > 0  # weight 0: neither seed nor neighbour
        pool_rows = np.flatnonzero(in_pool)
        y_pool = data.y_train[pool_rows].astype(np.int64)  # labels of its losses
        # The neighbour search copies one class's rows at a time; training
        # reads the pool's rows from the training fold (``SeedPool.take``).
        neighbors, n_neighbors = class_neighbors(
            data.X_train, y_pool, self.k_max, rows=pool_rows
        )
        for c in np.unique(y_pool):
            n_c = int((y_pool == c).sum())
            if n_c == 1:
                warnings.warn(
                    f"Class {self.classes_[c]!r} has 1 row in the training fold: "
                    "it has no neighbour, so its synthetic rows are copies of that "
                    "row (random oversampling). Give the class more rows for "
                    "interpolated ones.",
                    UserWarning,
                    stacklevel=3,
                )
            elif n_c <= self.k_max:
                warnings.warn(
                    f"Class {self.classes_[c]!r} has {n_c} rows in the training "
                    f"fold, fewer than k_max + 1 = {self.k_max + 1}: its seeds use "
                    f"at most {n_c - 1} neighbours (larger k are masked). Lower "
                    "k_max to silence this.",
                    UserWarning,
                    stacklevel=3,
                )
        device = torch.device(self.device)
        self._pool_np = (y_pool, neighbors)
        pool = SeedPool(
            data.train_ds.X,
            torch.from_numpy(y_pool).to(device),
            torch.from_numpy(neighbors).to(device),
            torch.from_numpy(n_neighbors).to(device),
            budgets,
            len(data.y_train),
            weights=(
                None
                if data.w_train is None
                else torch.as_tensor(data.w_train[in_pool], device=device)
            ),
            source_rows=torch.from_numpy(pool_rows).to(device),
        )
        return {
            "pool": pool,
            "valid": (data.valid_ds.X, data.valid_ds.y) if len(data.y_valid) else None,
        }

    def _method_callbacks(self, data):
        temperatures = temperature_schedule(
            self.temperature,
            self.temperature_schedule,
            self.min_temperature,
            self.max_epochs,
        )
        return [("autosmote", DecisionMonitor(temperatures))]

    def _after_train(self, data):
        pool = self.net_.pool
        y_pool, neighbors = self._pool_np
        del self._pool_np
        self.seed_classes_ = self.classes_[y_pool]
        self.neighbors_ = neighbors
        dists, cohorts = decision_distributions(
            self.net_.generator_, pool.source, pool.y, pool.k_mask, pool.source_rows
        )
        self.decision_distributions_ = dists
        self.cohort_assignments_ = cohorts if self.variant == "cohort" else None
        # The pool holds training rows: a fitted model must not carry them.
        self.net_.pool = None
        self.net_.valid = None


def decision_distributions(nets, X, y, k_mask, rows=None):
    """Decision probabilities of the rows ``X`` of classes ``y`` (tensors).

    Returns ``(distributions, cohorts)``: a dict of ndarrays
    ``"participation"`` (n,), ``"k"`` (n, K), ``"aggregation"`` (n, A), and
    the most likely cohort of each row (None in the self variant). In the
    cohort variant the distributions are those of that cohort. With ``rows``,
    they are those of the rows ``rows`` of ``X``. The networks run a block
    of rows at a time (:func:`decision_logits`).
    """
    training = nets.training
    nets.eval()
    parts = {"participation": [], "k": [], "aggregation": [], "cohort": []}
    try:
        for logits in decision_logits(nets, X, y, k_mask, rows):
            parts["participation"].append(
                torch.softmax(logits["participation"], 1)[:, 1]
            )
            parts["k"].append(torch.softmax(logits["k"], 1))
            parts["aggregation"].append(torch.softmax(logits["aggregation"], 1))
            if "cohort_logits" in logits:
                parts["cohort"].append(logits["cohort_logits"].argmax(1))
    finally:
        nets.train(training)
    cohort = parts.pop("cohort")
    dists = {k: torch.cat(v).cpu().numpy().astype(np.float64) for k, v in parts.items()}
    cohorts = torch.cat(cohort).cpu().numpy() if cohort else None
    return dists, cohorts
