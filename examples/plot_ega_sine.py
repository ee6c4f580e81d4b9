"""
=================================================
EGA's sine-wave toy: points learned by a gradient
=================================================

Section 4 of the EGA paper (arXiv:2202.10550) shows the method on a
regression toy: the curve ``sin(pi / 2 * x)`` on ``[-5, 5]``, 5 training
points, 5 validation points and 20 synthetic points drawn at random in
``[-1, 1]``, a network with one hidden layer of 10 tanh units, ``eta1 = 0.1``
and ``eta2 = 1``. The network first trains on the 5 training points; then, at
every step, it takes a look-ahead SGD step on the real and synthetic points,
the synthetic points move down the gradient of the look-ahead network's
validation loss, and the network takes the step.

:func:`skart.meta_gradients` is that step for any module and any criterion
(here the mean squared error). :class:`~skart.EGAClassifier` runs it on
classification data, with fixed labels; here too only the points' inputs
move, their targets stay where they were drawn (the paper's figure moves
both). The paper compares against the same network trained on the training
and validation points together; we also show the network trained on the
training points alone for as many steps, which is what EGA adds to.
"""

# %%
# The toy and the three trainings
# -------------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from skart import meta_gradients

mse = nn.functional.mse_loss


def curve(x):
    return torch.sin(np.pi / 2 * x)


def new_net():
    return nn.Sequential(nn.Linear(1, 10), nn.Tanh(), nn.Linear(10, 1))


def sgd(net, X, y, steps, lr):
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        mse(net(X), y).backward()
        opt.step()


def toy(seed, steps=1000, eta1=0.1, eta2=1.0):
    g = torch.Generator().manual_seed(seed)
    x_train = torch.rand(5, 1, generator=g) * 10 - 5
    x_valid = torch.rand(5, 1, generator=g) * 10 - 5
    Z = torch.rand(20, 1, generator=g) * 2 - 1  # synthetic inputs
    y_z = torch.rand(20, 1, generator=g) * 2 - 1  # and their fixed targets
    torch.manual_seed(seed)
    ega = new_net()
    both, train_only = new_net(), new_net()
    both.load_state_dict(ega.state_dict())
    train_only.load_state_dict(ega.state_dict())
    x_both = torch.cat([x_train, x_valid])
    sgd(both, x_both, curve(x_both), 2 * steps, eta1)  # the paper's baseline
    sgd(train_only, x_train, curve(x_train), 2 * steps, eta1)
    sgd(ega, x_train, curve(x_train), steps, eta1)  # phase 1
    Z0 = Z.clone()
    params = list(ega.parameters())
    for _ in range(steps):  # phase 2
        _, _, grads, grad_Z, _ = meta_gradients(
            ega, mse, Z, y_z, x_train, curve(x_train), x_valid, curve(x_valid), eta1
        )
        with torch.no_grad():
            for p, grad in zip(params, grads):
                p.add_(grad, alpha=-eta1)
            Z -= eta2 * grad_Z
    return dict(
        x_train=x_train,
        x_valid=x_valid,
        Z0=Z0,
        Z=Z,
        y_z=y_z,
        nets={"train + valid": both, "train only": train_only, "EGA": ega},
    )


grid = torch.linspace(-5, 5, 500)[:, None]
rows = []
for seed in range(5):
    run = toy(seed)
    with torch.no_grad():
        errors = {
            k: mse(net(grid), curve(grid)).item() for k, net in run["nets"].items()
        }
    # Distance of a point to the curve, measured along the target axis.
    off = {k: (curve(run[k]) - run["y_z"]).abs().mean().item() for k in ("Z0", "Z")}
    rows.append((seed, errors, off))
    if seed == 0:
        shown = run

print(
    "seed  test MSE: train+valid  train only   EGA   | points off the curve: start -> end"
)
for seed, errors, off in rows:
    print(
        f"{seed:4d}  {errors['train + valid']:21.3f} {errors['train only']:11.3f}"
        f" {errors['EGA']:6.3f}   | {off['Z0']:.3f} -> {off['Z']:.3f}"
    )
mean = {k: np.mean([r[1][k] for r in rows]) for k in rows[0][1]}
print("mean  " + "  ".join(f"{k}: {v:.3f}" for k, v in mean.items()))

# %%
# What it looks like (seed 0)
# ---------------------------
# Left: the training (blue) and validation (purple) points and the synthetic
# points as drawn (red). Right: the three fitted networks and the synthetic
# points after phase 2.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
x = grid.squeeze(1)
for ax in axes:
    ax.plot(x, curve(x), c="tab:green", lw=4, alpha=0.4, label="sin(pi/2 x)")
    ax.scatter(shown["x_train"], curve(shown["x_train"]), marker="^", c="tab:blue")
    ax.scatter(shown["x_valid"], curve(shown["x_valid"]), marker="^", c="tab:purple")
axes[0].scatter(shown["Z0"], shown["y_z"], c="tab:red", s=12, label="synthetic (start)")
axes[1].scatter(shown["Z"], shown["y_z"], c="tab:red", s=12, label="synthetic (end)")
with torch.no_grad():
    for (name, net), style, color in zip(
        shown["nets"].items(), ["--", ":", "-"], ["0.3", "tab:orange", "tab:red"]
    ):
        axes[1].plot(x, net(grid).squeeze(1), style, c=color, label=name)
axes[0].set_title("data")
axes[1].set_title("after training")
for ax in axes:
    ax.legend(fontsize=7, loc="lower left")
plt.show()

# %%
# What to read from it
# --------------------
# With 1000 steps per phase (as here) the EGA network has the lowest test
# error on average (0.48 against 0.70 for the network trained on the
# training and validation points together and 0.94 for the training points
# alone, when this example was written), it beats the train-only network on
# every seed and the paper's baseline on three of five, and the points end
# closer to the curve on every seed. The toy is fragile: with 2000 steps per
# phase the same seeds gave 0.63 for EGA against 0.58 for the paper's
# baseline, and the points came closer to the curve on three seeds of five.
# EGA learns the points for the validation loss of the next step, not for
# their closeness to the curve.
