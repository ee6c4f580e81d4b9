"""Ctrl-C during ``fit``: training stops, the fit is kept, and the user is told.

skorch ends its epoch loop on a ``KeyboardInterrupt`` without a word, and so
does early stopping, which raises one to stop. :func:`catch_interrupts` tells
the two apart: while a fit trains, a SIGINT handler of its own records that
the user interrupted, then raises the ``KeyboardInterrupt`` as Python's
default handler does. The net then skips any further training call of the
fit (a method's second stage), and the estimator finishes as scikit-learn's
``MLPClassifier`` does: the best weights kept, a warning, and the history
marked.
"""

import contextlib
import signal
import threading


class Interrupt:
    """Whether the user interrupted the fit (``interrupted``)."""

    def __init__(self):
        self.interrupted = False


@contextlib.contextmanager
def catch_interrupts():
    """Record a SIGINT while the block runs; yields an :class:`Interrupt`.

    Signals reach the main thread only: in any other thread (a threaded
    search's worker) nothing is installed and ``interrupted`` stays False.
    """
    state = Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN or previous is None:
        yield state  # Ctrl-C is ignored in this process; keep it so
        return

    def handler(signum, frame):
        state.interrupted = True
        if callable(previous):
            previous(signum, frame)  # Python's default raises KeyboardInterrupt
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)
