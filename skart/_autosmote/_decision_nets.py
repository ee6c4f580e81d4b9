"""AutoSMOTE's decision networks and their whole-pool passes."""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._nn._random import reset_linear
from ._synthesis import gumbel_softmax

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

    @torch.no_grad()
    def reset_parameters(self, generator=None):
        """Draw new initial weights (as at construction) from ``generator``.

        A fit calls it with its own CPU generator, so the decision networks
        start the same whether fits run one after another or in threads.
        """
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                if generator is None:
                    layer.reset_parameters()
                else:
                    reset_linear(layer, generator)
        if self.variant != "self":
            for table in self.tables.values():
                draw = torch.randn(table.shape, generator=generator, dtype=table.dtype)
                table.copy_(0.1 * draw)

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
