"""Callbacks of the core: the finite-loss guard and loss-or-metric early stopping."""

import copy

import numpy as np
from skorch.callbacks import (
    Callback,
    EarlyStopping,
)


class FiniteLossGuard(Callback):
    """Stop training with an error as soon as an epoch's loss is not finite."""

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {len(net.history)}. "
                "The model is broken, so training stopped. Lower `lr`, scale the "
                "features (e.g. StandardScaler) or check the criterion."
            )


class LossOrMetricStopping(EarlyStopping):
    """Stop once neither the validation loss nor the metric has improved for
    ``patience`` epochs; restore the weights of the best metric epoch.

    Stopping on the metric alone ends training on the plateau of the first
    epochs, where the network predicts the majority class and the macro
    metric does not move while the loss still falls.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_loss_ = np.inf

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "valid_loss"]
        best = self.best_loss_
        # The relative threshold of EarlyStopping, on the loss.
        loss_improved = not np.isfinite(best) or loss < best - self.threshold * abs(
            best
        )
        if loss_improved:
            self.best_loss_ = loss
        score = net.history[-1, self.monitor]
        if self._is_score_improved(score):
            self.misses_ = 0
            self.dynamic_threshold_ = self._calc_new_threshold(score)
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())
        elif loss_improved:
            self.misses_ = 0
        else:
            self.misses_ += 1
        if self.misses_ == self.patience:
            raise KeyboardInterrupt
