"""AutoSMOTE's synthetic rows: Gumbel-softmax draws, aggregations, neighbours."""

import math

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.neighbors import NearestNeighbors

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


def neighbor_masks(neighbors, n_neighbors):
    """Neighbours padded with the seed itself, and the feasible ``k`` of each seed.

    Parameters
    ----------
    neighbors : ndarray of shape (n, k_max)
        Neighbour rows from :func:`class_neighbors` (-1 where missing).
    n_neighbors : ndarray of shape (n,)
        Neighbours each row has.

    Returns
    -------
    padded : ndarray of shape (n, k_max)
        ``neighbors`` with a missing neighbour pointing at the seed itself.
    k_mask : ndarray of bool of shape (n, k_max)
        Whether ``k = 1 .. k_max`` neighbours are feasible. A seed without
        neighbour (a one-row class) keeps ``k = 1`` open, for a finite
        softmax; its synthetic rows are copies of itself.
    """
    own = np.arange(len(neighbors))[:, None]
    padded = np.where(neighbors >= 0, neighbors, own)
    k_mask = np.arange(neighbors.shape[1])[None, :] < n_neighbors[:, None]
    k_mask[:, 0] |= n_neighbors == 0
    return padded, k_mask
