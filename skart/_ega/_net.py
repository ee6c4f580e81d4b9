"""EGA's net (its training step is the meta step while phase 2 runs) and its monitor."""

import numpy as np
import torch
from sklearn.metrics import average_precision_score
from skorch.dataset import unpack_data

from .._nn._callbacks import KeepBestEpoch
from .._nn._net import Net
from ._meta import meta_gradients


class AutocastForward(torch.nn.Module):
    """``module``'s forward run by ``net.run_forward``: under the net's autocast,
    its logits as float32.

    EGA's meta step (:func:`meta_gradients`) calls it for the inner and the
    look-ahead forward passes; its gradients, the double backward included,
    are taken outside autocast. Its parameters are ``module``'s, named
    ``module.<name>``, so the look-ahead's ``functional_call`` reaches them.
    """

    def __init__(self, module, net):
        super().__init__()
        self.module = module
        self.run_forward = net.run_forward

    def forward(self, X):
        return self.run_forward(self.module, X)


class EGANet(Net):
    """skart's net whose training step is EGA's meta step while ``meta`` is set.

    The meta step runs the plain module under ``compile=True``: it takes a
    double backward, which compiled graphs do not support.
    """

    meta = None

    float16_refusal = (
        "EGA's phase-2 meta step differentiates the validation loss through a "
        "gradient step (a second-order gradient, which float16's range "
        "underflows) and steps the weights and points by hand, which a "
        "gradient scaler cannot drive."
    )

    def train_step(self, batch, **fit_params):
        meta = self.meta
        if meta is None:
            return super().train_step(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        module = self.module_
        params = [p for p in module.parameters() if p.requires_grad]
        if len(meta.Z) == 0:
            # Nothing to learn: the step is plain SGD with eta1 on the real rows.
            logits = self.run_forward(module, Xi)
            loss = self.criterion_(logits, yi)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.add_(g, alpha=-meta.eta1)
            return {"loss": loss.detach(), "y_pred": logits.detach()}
        zi = meta.synthetic_stream.next()
        vi = meta.valid_stream.next()
        X_val, y_val = meta.valid.take(vi)
        w_val = (
            None
            if meta.valid_weights is None
            else meta.valid_weights.index_select(0, vi)
        )
        loss, logits, grads, grad_Z, _ = meta_gradients(
            module if self.autocast_dtype is None else AutocastForward(module, self),
            self.criterion_,
            meta.Z.index_select(0, zi),
            meta.y_z.index_select(0, zi),
            Xi,
            yi,
            X_val,
            y_val,
            meta.eta1,
            w_val=w_val,
        )
        with torch.no_grad():
            # The step the look-ahead took, with the same g (Z before its update).
            for p, g in zip(params, grads):
                p.add_(g, alpha=-meta.eta1)
            if meta.eta2:
                # A point drawn twice in one batch gets both of its gradients.
                meta.Z.index_put_((zi,), grad_Z.mul_(-meta.eta2), accumulate=True)
        return {"loss": loss, "y_pred": logits[len(zi) :]}


def validation_ap(y_true, proba, positive, sample_weight=None):
    """Average precision of ``positive`` (binary) or macro one-vs-rest (``None``),
    weighted by ``sample_weight`` if given."""
    w = sample_weight
    if positive is not None:
        hits = y_true == positive
        if not hits.any() or (w is not None and not w[hits].any()):
            return float("nan")
        return float(average_precision_score(hits, proba[:, positive], sample_weight=w))
    present = np.unique(y_true if w is None else y_true[w > 0])
    scores = [
        average_precision_score(y_true == k, proba[:, k], sample_weight=w)
        for k in present
    ]
    return float(np.mean(scores))


class EGAMonitor(KeepBestEpoch):
    """Record each epoch's phase, validation AP and distance travelled; keep the best epoch.

    Within a phase (one training run), the best epoch by ``monitor`` (the
    highest validation average precision by default) is kept (its weights,
    and in phase 2 its synthetic points) and restored when the phase ends.

    Parameters
    ----------
    positive : int or None, default=None
        The class of ``valid_ap`` (binary), or None for the macro mean.
    sink : callable, default=print
        Where the restoring message goes when the net is verbose.
    monitor : str, default="valid_ap"
        The history key of the score that picks the best epoch; another key
        is recorded by another callback before this one runs.
    lower_is_better : bool, default=False
        Whether a lower ``monitor`` is better.
    """

    # The validation predictions are read per batch, the loss is not.
    reads_batch_loss = False

    def __init__(
        self, positive=None, sink=print, *, monitor="valid_ap", lower_is_better=False
    ):
        super().__init__(monitor, lower_is_better=lower_is_better, sink=sink)
        self.positive = positive

    def initialize(self):
        self.y_true_, self.proba_ = [], []
        self.best_Z_ = None
        return self

    def reset(self):
        """Forget the kept weights and points."""
        self.best_model_weights_ = None
        self.best_Z_ = None

    def release_fit_data(self):
        self.reset()

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_Z_ = None

    def on_epoch_begin(self, net, **kwargs):
        self.y_true_, self.proba_ = [], []

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        yi = unpack_data(batch)[1]
        self.proba_.append(torch.softmax(y_pred.detach().float(), dim=1).cpu())
        self.y_true_.append(torch.as_tensor(yi).cpu())

    def on_epoch_end(self, net, **kwargs):
        history = net.history
        meta = getattr(net, "meta", None)
        history.record("phase", 1 if meta is None else 2)
        ap = float("nan")
        if self.y_true_:
            # The validation rows come in the order of their weights.
            weights = getattr(net, "valid_sample_weight", None)
            ap = validation_ap(
                torch.cat(self.y_true_).numpy(),
                torch.cat(self.proba_).numpy(),
                self.positive,
                None if weights is None else weights.cpu().numpy(),
            )
        history.record("valid_ap", ap)
        if meta is not None:
            history.record("synthetic_distance", meta.distance())
        super().on_epoch_end(net, **kwargs)

    def on_best_epoch(self, net):
        meta = getattr(net, "meta", None)
        if meta is None:
            self.best_Z_ = None
        elif self.best_Z_ is not None and self.best_Z_.shape == meta.Z.shape:
            self.best_Z_.copy_(meta.Z)  # in place: one copy of the points kept
        else:
            self.best_Z_ = meta.Z.clone()
