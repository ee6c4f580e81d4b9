"""The fit's own torch random streams, and the lock around torch's global one.

torch's global generator is one per process, shared by every thread: two fits
that seed it and draw from it in two threads (joblib's threading backend, a
Dask worker's threads) interleave their draws, and neither gets the model a
fit on its own would. So a fit draws from generators of its own
(:class:`FitGenerators`): the default module's initialisation and dropout,
AutoSMOTE's draws, cRT's re-initialisation. What must still go through the
global generator (the construction of a user's module, whose ``__init__``
draws from it) does so under one process-wide lock, with the global
generator seeded by the fit's seed and restored afterwards
(:func:`seeded_global`).
"""

import math
import threading
from contextlib import contextmanager

import torch

from .._validation import accepts

# Held while torch's global generator is seeded and drawn from for one fit
# (a module's construction) and while a fit saves or restores its state.
# Reentrant: a module built under it may build another one.
GLOBAL_RNG_LOCK = threading.RLock()


def _cuda_devices(device):
    device = torch.device(device)
    if device.type != "cuda":
        return []
    return [torch.cuda.current_device() if device.index is None else device.index]


@contextmanager
def seeded_global(seed, device="cpu", hold=True):
    """Seed torch's global generator with ``seed``; restore its state afterwards.

    The lock is held while the state is saved and seeded, and again while
    it is restored; with ``hold=True`` also in between (for a module's
    construction), with ``hold=False`` not (around training, which draws
    from the fit's own generators: only a user's module that draws from the
    global generator in ``forward``, such as ``torch.nn.Dropout``, reads
    the seeded state, reproducibly one fit at a time but not across
    concurrent threads).
    """
    devices = _cuda_devices(device)
    lock = GLOBAL_RNG_LOCK
    lock.acquire()
    try:
        cpu_state = torch.get_rng_state()
        cuda_states = [torch.cuda.get_rng_state(d) for d in devices]
        torch.manual_seed(seed)
        if not hold:
            lock.release()
        try:
            yield
        finally:
            if not hold:
                lock.acquire()
            torch.set_rng_state(cpu_state)
            for d, state in zip(devices, cuda_states):
                torch.cuda.set_rng_state(state, d)
    finally:
        lock.release()


class FitGenerators:
    """The torch generators of one fit, seeded from its seed.

    Attributes
    ----------
    seed : int
        The fit's seed.
    cpu : torch.Generator
        On the CPU: initial weights (drawn on the CPU and copied, so they are
        the same on any device) and host-side draws.
    device : torch.Generator
        On the fit's device, for draws there (dropout masks, AutoSMOTE's
        seeds and noise). The same object as ``cpu`` on the CPU.
    """

    def __init__(self, seed, device="cpu"):
        self.seed = int(seed)
        self.cpu = torch.Generator().manual_seed(self.seed)
        device = torch.device(device)
        if device.type == "cpu":
            self.device = self.cpu
        else:
            if device.type == "cuda" and device.index is None:
                device = torch.device("cuda", torch.cuda.current_device())
            self.device = torch.Generator(device=device).manual_seed(self.seed)

    def construction(self):
        """Context in which a module is built: the lock, the global generator seeded."""
        return seeded_global(self.seed, self.device.device, hold=True)

    def training(self):
        """Context of training: the global generator seeded, the lock not held."""
        return seeded_global(self.seed, self.device.device, hold=False)

    def attach(self, module, reset=True):
        """Initialise ``module`` from the fit's generator and give it the generator.

        A module whose ``reset_parameters`` takes ``generator`` (skart's
        :class:`~skart.MLP`) is re-initialised from ``cpu`` when ``reset``; one
        with a ``generator`` attribute that is None or a generator gets
        ``device``, for the draws of its ``forward``.
        """
        method = getattr(module, "reset_parameters", None)
        if reset and method is not None and accepts(method, "generator"):
            method(generator=self.cpu)
        if _takes_generator(module):
            module.generator = self.device


def _takes_generator(module):
    current = getattr(module, "generator", False)
    return current is None or isinstance(current, torch.Generator)


def detach(module):
    """Drop a module's generator (set by :meth:`FitGenerators.attach`)."""
    if isinstance(getattr(module, "generator", None), torch.Generator):
        module.generator = None


@torch.no_grad()
def reset_linear(layer, generator):
    """``nn.Linear.reset_parameters`` drawing from ``generator`` (a CPU one).

    The values are drawn on the CPU and copied to the layer's device, so the
    same generator gives the same weights on any device.
    """
    weight = torch.empty(layer.weight.shape, dtype=layer.weight.dtype)
    # a=sqrt(5): uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), as torch's Linear.
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    layer.weight.copy_(weight)
    if layer.bias is not None:
        fan_in = layer.weight.shape[1]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        bias = torch.empty(layer.bias.shape, dtype=layer.bias.dtype)
        torch.nn.init.uniform_(bias, -bound, bound, generator=generator)
        layer.bias.copy_(bias)
