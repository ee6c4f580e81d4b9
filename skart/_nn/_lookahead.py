"""The one-step functional look-ahead of a network's parameters.

EGA's meta step and AutoSMOTE's bilevel objective both differentiate a
validation loss through one gradient step of the network; both take the
step's parameters from :func:`lookahead_params`.
"""

import torch


def lookahead_params(module, grads, eta1):
    """The parameters of one SGD step, ``theta - eta1 * g``, as a name -> tensor dict.

    Parameters
    ----------
    module : torch.nn.Module
        The network; its parameters that require a gradient are stepped.
    grads : sequence of torch.Tensor
        One gradient per such parameter, in ``named_parameters`` order. When
        they carry a graph (``create_graph=True``) so does the result.
    eta1 : float
        Step size.

    Returns
    -------
    params : dict of str to torch.Tensor
        For :func:`torch.func.functional_call`. ``torch.add(p, g,
        alpha=-eta1)`` is the same operation as the in-place update
        ``p.add_(g, alpha=-eta1)`` that :class:`torch.optim.SGD` takes, so
        the look-ahead is bitwise the step that is then taken.
    """
    named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    return {n: torch.add(p, g, alpha=-eta1) for (n, p), g in zip(named, grads)}
