"""ART's resampling as a part that any network estimator can take.

A network estimator takes it by listing :class:`ARTResampling` before
:class:`~skart._nn._estimator.BaseNetClassifier` among its bases and its
parameters ``art``, ``c``, ``bf`` and ``smooth`` in its signature. The part
draws the training fold by class through a :class:`ClassDistributionSampler`
and replaces the core's class scoring with :class:`ARTCallback`, which scores
the same classes and refreshes the sampler's distribution from the scores.
"""

from numbers import Integral, Real

from .._params import Interval
from ._callback import ARTCallback


class ARTResampling:
    """Mixin: ART's class sampler and callback for a network estimator."""

    _art_constraints: dict = {
        "art": ["boolean"],
        "c": [Interval(Real, 0, 1, closed="both")],
        "bf": [Interval(Integral, 1, None, closed="left")],
        "smooth": [Interval(Real, 0, None, closed="left")],
    }

    def _class_sampler(self, state):
        if not self.art:
            return super()._class_sampler(state)
        return state.class_sampler()

    def _prepare_fit(self, state):
        super()._prepare_fit(state)
        if state.warm is not None and self.art:
            # ART goes on from the distribution it ended with.
            state.sampler.set_distribution(state.warm["sampling_distribution_"])

    def _scoring_callback(self, state):
        # Without resampling (art=False) the callback still scores the classes,
        # so the baseline has the same history as an ART run.
        return "art", ARTCallback(
            state.sampler if self.art else None,
            c=self.c,
            bf=self.bf,
            metric=self.metric,
            smooth=self.smooth,
            sample_weight=state.valid_weights,
            distributed=state.ddp is not None,
        )


# ART's parameters, documented once for every estimator that takes the part
# (see skart._nn._docs.Substitution).
ART_PARAMETERS = {
    "art": (
        "bool",
        """Draw the training rows by class with ART's sampler, its distribution
refreshed from the per-class validation scores. ``False`` shuffles plainly
(the per-class metric is still recorded in the history).""",
    ),
    "c": (
        "float in [0, 1]",
        """Weight of the empirical class prior in ART's sampling distribution;
``c=1`` samples by the prior, ``c=0`` by difficulty alone.""",
    ),
    "bf": (
        "int >= 1",
        "ART's boost frequency: epochs between two refreshes of the distribution.",
    ),
    "smooth": (
        "float >= 0",
        """Before each refresh, each class's score is shrunk towards the mean
score of the scored classes with a prior worth ``smooth`` validation rows,
``(n * f + smooth * mean(f)) / (n + smooth)`` for a class of ``n`` validation
rows (as :class:`~sklearn.preprocessing.TargetEncoder` smooths category
means). A class with one missed validation row then no longer takes the
largest sampling share on the evidence of one prediction. 0 uses the raw
scores. The user guide has the measurements behind the default.""",
    ),
}
