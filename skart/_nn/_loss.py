"""A criterion's loss of each row: the one way skart weighs rows in a loss."""


def per_row_loss(criterion, logits, target, *, purpose="A weighted fit"):
    """``criterion``'s loss of each row, through its ``reduction`` attribute.

    The criterion's ``reduction`` is set to ``"none"`` for the call and put
    back after it, so the same criterion object serves the mean losses of
    skorch and the per-row losses of weighted fits and synthetic rows.

    Parameters
    ----------
    criterion : torch.nn.Module
        A loss with a ``reduction`` attribute, as torch's losses have.
    logits : torch.Tensor of shape (n, n_classes)
        The network's output.
    target : torch.Tensor of shape (n,)
        The labels.
    purpose : str, default="A weighted fit"
        What needs the per-row losses, for the error message.

    Returns
    -------
    losses : torch.Tensor of shape (n,)
        One loss per row.
    """
    if not hasattr(criterion, "reduction"):
        raise ValueError(
            f"{purpose} needs the loss of each row, but the criterion "
            f"{criterion!r} has no `reduction` attribute. Use a torch loss module "
            "(e.g. torch.nn.CrossEntropyLoss) or one with a `reduction` attribute."
        )
    reduction, criterion.reduction = criterion.reduction, "none"
    try:
        return criterion(logits, target)  # (n,)
    finally:
        criterion.reduction = reduction
