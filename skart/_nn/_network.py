"""The default network: a multilayer perceptron for tabular data."""

import math

from torch import nn


class MLP(nn.Module):
    """Multilayer perceptron returning class logits.

    Inputs of any shape ``(n, ...)`` are flattened, so the same module serves
    tabular rows and small images. :class:`~skart.ARTClassifier` fills
    ``n_features`` and ``n_classes`` from the data at ``fit``.

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
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)
