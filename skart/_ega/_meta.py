"""EGA's meta step: the hypergradient of the validation loss through one look-ahead step."""

import torch
from torch.func import functional_call

from .._nn._lookahead import lookahead_params
from .._nn._loss import per_row_loss


def meta_gradients(module, criterion, Z, y_z, X, y, X_val, y_val, eta1, *, w_val=None):
    """Compute one EGA meta step without updating anything.

    The step returns the inner gradient ``g`` of the network and the
    hypergradient ``dL_out / dZ`` of the synthetic points. It works with
    any module and any criterion (a regression loss too, as in the sine
    example of the gallery).

    The inner loss is ``criterion`` on the rows ``[Z; X]`` (the mean over
    their union, as in the paper), from one forward pass of ``module`` in
    its current mode: in training mode dropout draws one mask and batch
    normalisation updates its running statistics once, as in a plain step.
    The outer loss is ``criterion`` on the validation rows through the
    look-ahead parameters ``theta - eta1 * g``, evaluated with the module in
    evaluation mode: no dropout, batch normalisation from its running
    statistics, and no buffer updated, so the validation rows never change
    the network's state.

    Parameters
    ----------
    module : torch.nn.Module
        The network, returning logits.
    criterion : callable
        Loss on ``(logits, target)``, a mean over rows.
    Z : torch.Tensor of shape (n_z, ...)
        Synthetic points of this step.
    y_z : torch.Tensor of shape (n_z,)
        Their (fixed) labels.
    X : torch.Tensor of shape (n, ...)
        Real training rows of this step.
    y : torch.Tensor of shape (n,)
        Their labels.
    X_val : torch.Tensor of shape (n_val, ...)
        Validation rows of this step.
    y_val : torch.Tensor of shape (n_val,)
        Their labels.
    eta1 : float
        Step size of the look-ahead.
    w_val : torch.Tensor of shape (n_val,), default=None
        Sample weights of the validation rows, scaled to mean 1 over the
        validation fold: the outer loss is then ``mean(w_val * l)``, an
        unbiased estimate of the fold's weighted mean loss. ``criterion`` must
        have a ``reduction`` attribute (as torch's losses do). ``None``: the
        plain mean.

    Returns
    -------
    loss : torch.Tensor
        The inner loss (detached scalar).
    logits : torch.Tensor of shape (n_z + n, n_classes)
        Inner logits, synthetic rows first (detached).
    grads : list of torch.Tensor
        ``g``, the inner gradient of every parameter that requires one
        (detached), in ``named_parameters`` order.
    grad_Z : torch.Tensor of shape (n_z, ...)
        ``dL_out / dZ``, the hypergradient of the outer loss.
    loss_val : torch.Tensor
        The outer loss of the look-ahead network (detached scalar).

    Examples
    --------
    >>> import torch
    >>> from skart import meta_gradients
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> Z, X, Xv = torch.randn(3, 2), torch.randn(5, 2), torch.randn(4, 2)
    >>> y_z, y, y_v = torch.ones(3, dtype=torch.long), torch.zeros(5, dtype=torch.long), torch.tensor([0, 1, 0, 1])
    >>> out = meta_gradients(net, torch.nn.functional.cross_entropy, Z, y_z, X, y, Xv, y_v, 0.1)
    >>> out[3].shape
    torch.Size([3, 2])
    """
    params = [p for p in module.parameters() if p.requires_grad]
    Z = Z.detach().requires_grad_(True)
    logits = module(torch.cat([Z, X]))  # (n_z + n, K)
    loss = criterion(logits, torch.cat([y_z, y]))
    grads = torch.autograd.grad(loss, params, create_graph=True)
    theta = lookahead_params(module, grads, eta1)
    training = module.training
    module.train(False)
    try:
        logits_val = functional_call(module, theta, (X_val,))
        if w_val is None:
            loss_val = criterion(logits_val, y_val)
        else:
            loss_val = (w_val * per_row_loss(criterion, logits_val, y_val)).mean()
    finally:
        module.train(training)
    (grad_Z,) = torch.autograd.grad(loss_val, Z)
    return (
        loss.detach(),
        logits.detach(),
        [g.detach() for g in grads],
        grad_Z,
        loss_val.detach(),
    )


class IndexStream:
    """Batches of row indices from a stream of random permutations of ``n`` rows.

    Each batch takes the next ``batch_size`` entries of the stream; a new
    permutation is appended when the stream runs short, so every row is seen
    once per ``n`` drawn indices.
    """

    def __init__(self, n, batch_size, seed, device):
        self.n = n
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.device = device
        self._buffer = torch.empty(0, dtype=torch.int64)

    def next(self):
        while len(self._buffer) < self.batch_size:
            perm = torch.randperm(self.n, generator=self.generator)
            self._buffer = torch.cat([self._buffer, perm])
        idx, self._buffer = (
            self._buffer[: self.batch_size],
            self._buffer[self.batch_size :],
        )
        return idx.to(self.device)


class WeightedIndexStream:
    """Batches of row indices drawn with replacement in proportion to ``weights``.

    Rows of weight 0 are never drawn; a row of integer weight ``k`` is drawn
    as often, in distribution, as ``k`` copies of it would be by
    :class:`IndexStream`.
    """

    def __init__(self, weights, batch_size, seed, device):
        self.weights = torch.as_tensor(weights, dtype=torch.float64)
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.device = device

    def next(self):
        idx = torch.multinomial(
            self.weights, self.batch_size, replacement=True, generator=self.generator
        )
        return idx.to(self.device)


class MetaState:
    """What phase 2 of a fit holds: the synthetic points and the batch streams.

    The starting points are ``Z_init``, or, when ``init_rows=(X, rows)`` is
    given instead, the rows ``rows`` of the tensor ``X`` (the training rows
    the points were copied from), read a chunk at a time and never copied
    whole: a fit then holds the points being learned, not a second copy of
    where they started.
    """

    # Values (float32: 1 MiB) of the starting points read at a time by `distance`.
    chunk_values = 2**18

    def __init__(
        self,
        Z,
        y_z,
        valid,
        *,
        eta1,
        eta2,
        synthetic_stream,
        valid_stream,
        Z_init=None,
        valid_weights=None,
        init_rows=None,
    ):
        self.Z = Z
        self.init_rows = init_rows
        self._Z_init = Z_init
        if Z_init is None and init_rows is None:
            self._Z_init = Z.clone()
        self.y_z = y_z
        self.valid = valid
        # Validation weights scaled to mean 1 over the fold, or None.
        self.valid_weights = valid_weights
        self.eta1 = eta1
        self.eta2 = eta2
        self.synthetic_stream = synthetic_stream
        self.valid_stream = valid_stream

    def initial(self, start=0, stop=None):
        """The starting points ``start:stop`` (a new tensor when read from rows)."""
        if self._Z_init is not None:
            return self._Z_init[start:stop]
        X, rows = self.init_rows
        return X.index_select(0, rows[start:stop])

    @property
    def Z_init(self):
        """The starting points, all of them (a copy when read from rows)."""
        return self.initial()

    def distance(self):
        """Mean Euclidean distance of the points from their starting copies."""
        n = len(self.Z)
        if n == 0:
            return 0.0
        # Row by row as over the whole, a chunk of rows at a time.
        norms = self.Z.new_empty(n)
        step = max(1, self.chunk_values // max(1, self.Z[0].numel()))
        for start in range(0, n, step):
            stop = min(start + step, n)
            diff = self.Z[start:stop] - self.initial(start, stop)
            norms[start:stop] = diff.flatten(1).norm(dim=1)
        return float(norms.mean())
