"""A criterion's loss of each row."""


def per_row_loss(criterion, logits, target):
    """``criterion``'s loss of each row, through its ``reduction`` attribute."""
    if not hasattr(criterion, "reduction"):
        raise ValueError(
            f"A weighted fit needs the loss of each validation row, but the "
            f"criterion {criterion!r} has no `reduction` attribute. Use a torch "
            "loss module (e.g. torch.nn.CrossEntropyLoss) or fit without "
            "sample_weight."
        )
    reduction, criterion.reduction = criterion.reduction, "none"
    try:
        return criterion(logits, target)  # (n,)
    finally:
        criterion.reduction = reduction
