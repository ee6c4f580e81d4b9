"""The default network: a multilayer perceptron for tabular data."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._random import reset_linear


class Dropout(nn.Module):
    """``torch.nn.Dropout`` that draws its masks from ``generator`` when set.

    A fit sets ``generator`` to its own torch generator: the masks are then
    the same whether fits run one after another or in threads. Without one
    (None) it is ``torch.nn.functional.dropout``, which draws from torch's
    global generator. Each value is kept with probability ``1 - p`` and
    scaled by ``1 / (1 - p)``, as ``nn.Dropout`` does.
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
        self.generator = None

    def forward(self, X):
        if not self.training or self.p == 0:
            return X
        if self.generator is None or self.p == 1:
            return F.dropout(X, self.p, True)
        keep = 1.0 - self.p
        # Uniforms >= p, as 0/1 floats scaled in place: a third faster per
        # call on the CPU than bernoulli_ (which nn.Dropout uses).
        u = torch.rand(
            X.shape, generator=self.generator, dtype=X.dtype, device=X.device
        )
        return X * u.ge_(self.p).div_(keep)

    def extra_repr(self):
        return f"p={self.p}"


class MLP(nn.Module):
    """Multilayer perceptron returning class logits.

    Inputs of any shape ``(n, ...)`` are flattened, so the same module serves
    tabular rows and small images. :class:`~skart.ARTClassifier` fills
    ``n_features`` and ``n_classes`` from the data at ``fit``.

    A fit initialises it from the fit's own torch generator
    (:meth:`reset_parameters`) and sets :attr:`generator`, which its dropout
    draws from: the same ``random_state`` gives the same model whether fits
    run one after another, in threads or in processes.

    Parameters
    ----------
    n_features : int
        Number of input features (product of the non-batch dimensions).
    n_classes : int
        Number of classes (width of the output logits).
    hidden_units : tuple of int, default=(64, 64)
        Width of each hidden layer.
    dropout : float, default=0.1
        Dropout probability after each hidden activation.

    Examples
    --------
    >>> import torch
    >>> from skart import MLP
    >>> MLP(n_features=4, n_classes=3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_features, n_classes, hidden_units=(64, 64), dropout=0.1):
        super().__init__()
        if isinstance(n_features, tuple | list):
            n_features = math.prod(n_features)
        layers = [nn.Flatten()]
        width = n_features
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU(), Dropout(dropout)]
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)

    def reset_parameters(self, generator=None):
        """Draw new initial weights, as ``torch.nn.Linear`` does, from ``generator``.

        Parameters
        ----------
        generator : torch.Generator, default=None
            A CPU generator; None draws from torch's global one.
        """
        for layer in self.layers:
            if isinstance(layer, nn.Linear):
                if generator is None:
                    layer.reset_parameters()
                else:
                    reset_linear(layer, generator)

    @property
    def generator(self):
        """The torch generator the dropout masks are drawn from (None: torch's global one)."""
        drops = [m for m in self.layers if isinstance(m, Dropout)]
        return drops[0].generator if drops else None

    @generator.setter
    def generator(self, generator):
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.generator = generator
