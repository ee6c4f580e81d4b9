"""Plots of a training history: the sampling distribution, per-class scores and losses.

The displays follow scikit-learn's visualisation API (see
:class:`sklearn.metrics.ConfusionMatrixDisplay`): build them with
``from_estimator`` (a fitted :class:`~skart.ARTClassifier`) or
``from_history`` (a skorch ``History``, e.g. of a net using
:class:`~skart.ARTCallback`); ``plot`` draws and returns the display, which
keeps the data it drew and the matplotlib artists. matplotlib is imported only
when something is drawn.
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

# History keys starting with "valid_" that are not the per-class metric's mean.
_NOT_METRIC = {"valid_loss", "valid_loss_best", "valid_batch_count"}


def check_matplotlib_support(caller_name):
    """Raise an ImportError naming the caller if matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"{caller_name} requires matplotlib. You can install matplotlib with "
            "`pip install matplotlib` (or skart's extra: `pip install skart[plot]`)"
        ) from e


def _history_rows(history, caller):
    """The history as a list of dicts, one per epoch.

    Accepts a skorch ``History`` (a list of dicts), any list of dicts (e.g.
    ``history.to_list()`` or a JSON load) or a pandas DataFrame with one row
    per epoch.
    """
    if hasattr(history, "to_dict") and hasattr(history, "columns"):  # DataFrame
        history = history.to_dict("records")
    try:
        rows = list(history)
    except TypeError:
        rows = None
    if rows is None or not all(isinstance(row, dict) for row in rows):
        raise TypeError(
            f"{caller} expects a skorch History, a list of dicts (one per epoch) or "
            f"a pandas DataFrame; got {type(history).__name__}."
        )
    if not rows:
        raise ValueError(f"{caller} got an empty history: train the model first.")
    return rows


def _column(rows, key):
    """Epoch numbers and values of ``key`` over the rows that have it."""
    epochs, values = [], []
    for i, row in enumerate(rows):
        if key in row:
            epochs.append(row.get("epoch", i + 1))
            values.append(row[key])
    return np.asarray(epochs, dtype=np.int64), values


def _labels(classes, n_classes, caller):
    if classes is None:
        return [str(k) for k in range(n_classes)]
    classes = list(classes)
    if len(classes) != n_classes:
        raise ValueError(
            f"{caller} got {len(classes)} class labels for a history with "
            f"{n_classes} classes; pass one label per class, in the order of "
            "the history's entries (the estimator's classes_)."
        )
    return [str(c) for c in classes]


def _fitted_history(estimator, caller):
    """The fitted model (last step of a pipeline), its ``history_`` and ``classes_``.

    Shared by the ``from_estimator`` constructors, with their clear errors.
    """
    check_matplotlib_support(caller)
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        estimator = steps[-1][1]
    if not hasattr(type(estimator), "history_") and not hasattr(estimator, "history_"):
        raise ValueError(
            f"{caller} needs a fitted estimator with a training history "
            f"(history_), such as ARTClassifier; got {type(estimator).__name__}. "
            "For a skorch net, pass net.history to from_history."
        )
    check_is_fitted(estimator)
    return estimator, estimator.history_, getattr(estimator, "classes_", None)


def _prior_of(estimator):
    counts = getattr(estimator, "class_counts_", None)
    if counts is None:
        return None
    counts = np.asarray(counts, dtype=np.float64)
    return counts / counts.sum()


def _class_colors(n_classes):
    """One colour per class, shared by all displays so that class k matches."""
    import matplotlib as mpl

    if n_classes <= 10:
        return [mpl.colormaps["tab10"](k) for k in range(n_classes)]
    if n_classes <= 20:
        return [mpl.colormaps["tab20"](k) for k in range(n_classes)]
    cmap = mpl.colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 1.0, n_classes)]


def _new_axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        # constrained layout keeps the legend, drawn right of the axes, inside
        # the figure.
        fig, ax = plt.subplots(layout="constrained")
    return ax, ax.figure


def _legend_outside(ax, handles, labels, title):
    return ax.legend(
        handles,
        labels,
        title=title,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        fontsize="small",
        title_fontsize="small",
        frameon=False,
    )


def _integer_epochs(ax):
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


class SamplingDistributionDisplay:
    """Class sampling distribution over the epochs, as a stacked area.

    Each band is one class's share of the rows drawn in an epoch: the
    distribution ``p`` that ART set for it. ART refreshes ``p`` at the end of
    epochs ``bf, 2 * bf, ...``; the area is drawn as steps that change
    between two epochs and each refresh is marked by a thin vertical line at
    ``epoch + 0.5``.

    Build it with :meth:`from_estimator` or :meth:`from_history`; all
    parameters are stored as attributes.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        Epoch numbers (1-based, as in skorch's history).
    p : array-like of shape (n_epochs, n_classes)
        Class distribution each epoch's batches were drawn from.
    refresh_epochs : array-like of shape (n_refreshes,), default=None
        Epochs at whose end ``p`` was refreshed. ``None`` marks nothing.
    display_labels : list of str of shape (n_classes,), default=None
        Class names for the legend. ``None`` means ``0, ..., n_classes - 1``.

    Attributes
    ----------
    stack_ : list of matplotlib PolyCollection
        One band per class, bottom to top in class order.
    refresh_lines_ : matplotlib LineCollection or None
        The refresh markers; ``None`` when there is no refresh to mark.
    legend_ : matplotlib Legend or None
        The legend, when drawn.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    ClassScoresDisplay : The per-class scores that drive the distribution.
    LossCurveDisplay : Training and validation loss.
    art_distribution : How ``p`` is computed from the scores.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_classification
    >>> from skart import ARTClassifier, SamplingDistributionDisplay
    >>> X, y = make_classification(
    ...     n_samples=300, n_classes=3, n_informative=4, weights=[0.7, 0.2],
    ...     random_state=0)
    >>> clf = ARTClassifier(bf=2, max_epochs=5, random_state=0).fit(X, y)
    >>> disp = SamplingDistributionDisplay.from_estimator(clf)
    >>> disp.p.shape
    (5, 3)
    >>> disp.refresh_epochs
    array([2, 4])
    >>> disp.figure_.savefig("sampling.png")  # doctest: +SKIP
    """

    def __init__(self, epochs, p, *, refresh_epochs=None, display_labels=None):
        self.epochs = epochs
        self.p = p
        self.refresh_epochs = refresh_epochs
        self.display_labels = display_labels

    def plot(
        self, *, ax=None, colors=None, legend=True, stack_kw=None, refresh_kw=None
    ):
        """Plot the distribution.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        colors : list of colors of shape (n_classes,), default=None
            One matplotlib colour per class. ``None`` uses ``tab10`` (up to 10
            classes), ``tab20`` (up to 20) or ``viridis``, as the other skart
            displays do.
        legend : bool, default=True
            Draw a legend, right of the axes, with the classes top to bottom
            as the bands are stacked.
        stack_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.stackplot`.
        refresh_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.vlines` for the
            refresh markers.

        Returns
        -------
        display : SamplingDistributionDisplay
            The display, with the attributes ``stack_``, ``refresh_lines_``,
            ``legend_``, ``ax_`` and ``figure_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        epochs = np.asarray(self.epochs)
        p = np.asarray(self.p, dtype=np.float64)  # (E, K)
        n_classes = p.shape[1]
        labels = _labels(self.display_labels, n_classes, f"{type(self).__name__}.plot")
        ax, fig = _new_axes(ax)
        colors = _class_colors(n_classes) if colors is None else colors
        # p is constant within an epoch and changes between two: epoch e fills
        # [e - 0.5, e + 0.5] and a refresh at its end sits at e + 0.5.
        x = np.append(epochs - 0.5, epochs[-1] + 0.5)  # (E + 1,)
        y = np.vstack([p, p[-1:]]).T  # (K, E + 1)
        stack_kw = {"step": "post", "colors": colors, "alpha": 0.85, **(stack_kw or {})}
        self.stack_ = ax.stackplot(x, y, labels=labels, **stack_kw)
        self.refresh_lines_ = None
        refresh = np.asarray(
            [] if self.refresh_epochs is None else self.refresh_epochs, dtype=np.float64
        )
        if refresh.size:
            refresh_kw = {
                "colors": "white",
                "linewidth": 0.8,
                "alpha": 0.9,
                "label": "ART refresh",
                **(refresh_kw or {}),
            }
            self.refresh_lines_ = ax.vlines(refresh + 0.5, 0.0, 1.0, **refresh_kw)
        ax.set(
            xlim=(epochs[0] - 0.5, epochs[-1] + 0.5),
            ylim=(0.0, 1.0),
            xlabel="Epoch",
            ylabel="Sampling probability",
        )
        _integer_epochs(ax)
        self.legend_ = None
        if legend:
            handles = list(self.stack_)[::-1]
            self.legend_ = _legend_outside(ax, handles, labels[::-1], "Class")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_history(
        cls,
        history,
        *,
        classes=None,
        ax=None,
        colors=None,
        legend=True,
        stack_kw=None,
        refresh_kw=None,
    ):
        """Plot the sampling distribution recorded in a training history.

        Works for any skorch net trained with :class:`~skart.ARTCallback` and
        a sampler: the history needs the per-epoch entries ``p`` (and
        ``art_refresh`` for the markers).

        Parameters
        ----------
        history : skorch History, list of dict or pandas DataFrame
            One entry per epoch, e.g. ``net.history``.
        classes : array-like of shape (n_classes,), default=None
            Class labels in the order of ``p``. ``None`` means
            ``0, ..., n_classes - 1``.
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        colors : list of colors of shape (n_classes,), default=None
            One matplotlib colour per class; see :meth:`plot`.
        legend : bool, default=True
            Draw a legend.
        stack_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.stackplot`.
        refresh_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.vlines`.

        Returns
        -------
        display : SamplingDistributionDisplay
            The plotted display.
        """
        caller = f"{cls.__name__}.from_history"
        check_matplotlib_support(caller)
        rows = _history_rows(history, caller)
        epochs, p = _column(rows, "p")
        if not p:
            raise ValueError(
                f"{caller}: the history has no sampling distribution 'p'. It is "
                "recorded only when ART resamples: the model was trained with "
                "art=False, or its ARTCallback had no sampler. Plot the class "
                "scores with ClassScoresDisplay instead."
            )
        p = np.asarray(p, dtype=np.float64)
        refresh_at, flags = _column(rows, "art_refresh")
        refresh = refresh_at[np.asarray(flags, dtype=bool)] if flags else None
        display = cls(
            epochs,
            p,
            refresh_epochs=refresh,
            display_labels=_labels(classes, p.shape[1], caller),
        )
        return display.plot(
            ax=ax,
            colors=colors,
            legend=legend,
            stack_kw=stack_kw,
            refresh_kw=refresh_kw,
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        colors=None,
        legend=True,
        stack_kw=None,
        refresh_kw=None,
    ):
        """Plot the sampling distribution of a fitted :class:`~skart.ARTClassifier`.

        Parameters
        ----------
        estimator : ARTClassifier or Pipeline
            A classifier fitted with ``art=True``, or a fitted pipeline
            ending with one.
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        colors : list of colors of shape (n_classes,), default=None
            One matplotlib colour per class; see :meth:`plot`.
        legend : bool, default=True
            Draw a legend with the labels of ``classes_``.
        stack_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.stackplot`.
        refresh_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.vlines`.

        Returns
        -------
        display : SamplingDistributionDisplay
            The plotted display.
        """
        estimator, history, classes = _fitted_history(
            estimator, f"{cls.__name__}.from_estimator"
        )
        return cls.from_history(
            history,
            classes=classes,
            ax=ax,
            colors=colors,
            legend=legend,
            stack_kw=stack_kw,
            refresh_kw=refresh_kw,
        )


def _metric_name(rows):
    """Name of the per-class metric, from the history's ``valid_<metric>`` key.

    ARTCallback records ``valid_<metric>`` right after ``class_scores``; keys
    recorded before it (e.g. skorch's ``valid_acc``) are other scorers.
    """
    keys = list(rows[-1])
    if "class_scores" not in keys:
        return None
    for key in keys[keys.index("class_scores") + 1 :]:
        value = rows[-1][key]
        if (
            key.startswith("valid_")
            and key not in _NOT_METRIC
            and not key.endswith("_best")
            and isinstance(value, numbers.Real)
        ):
            return key[len("valid_") :]
    return None


class ClassScoresDisplay:
    """Per-class validation score over the epochs, with each class's prior share.

    One line per class gives the control metric ART computes on the
    validation fold at the end of each epoch (F1 by default; a class with
    no validation row leaves a gap). When the class prior is known, a dashed
    horizontal line of the same colour marks each class's share of the
    training fold: the rare classes are the ones whose dashed line lies low.

    Build it with :meth:`from_estimator` or :meth:`from_history`; all
    parameters are stored as attributes.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        Epoch numbers (1-based).
    scores : array-like of shape (n_epochs, n_classes)
        Per-class validation scores; NaN where a class was not scored.
    display_labels : list of str of shape (n_classes,), default=None
        Class names for the legend. ``None`` means ``0, ..., n_classes - 1``.
    prior : array-like of shape (n_classes,), default=None
        Class shares of the training fold, drawn dashed. ``None`` draws none.
    metric_name : str, default=None
        Name of the metric, for the axis label. ``None`` means "score".

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One score line per class.
    prior_lines_ : list of matplotlib Line2D or None
        One dashed prior line per class; ``None`` without ``prior``.
    legend_ : matplotlib Legend or None
        The legend, when drawn.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    SamplingDistributionDisplay : The distribution these scores produce.
    LossCurveDisplay : Training and validation loss.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_classification
    >>> from skart import ARTClassifier, ClassScoresDisplay
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = ARTClassifier(max_epochs=4, random_state=0).fit(X, y)
    >>> disp = ClassScoresDisplay.from_estimator(clf)
    >>> disp.scores.shape, disp.metric_name
    ((4, 2), 'f1')
    >>> len(disp.prior_lines_)
    2
    """

    def __init__(
        self, epochs, scores, *, display_labels=None, prior=None, metric_name=None
    ):
        self.epochs = epochs
        self.scores = scores
        self.display_labels = display_labels
        self.prior = prior
        self.metric_name = metric_name

    def plot(self, *, ax=None, colors=None, legend=True, line_kw=None, prior_kw=None):
        """Plot the scores.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        colors : list of colors of shape (n_classes,), default=None
            One matplotlib colour per class; ``None`` uses the same colours as
            :class:`SamplingDistributionDisplay`.
        legend : bool, default=True
            Draw a legend right of the axes.
        line_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            score lines.
        prior_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.axhline` for the
            prior lines.

        Returns
        -------
        display : ClassScoresDisplay
            The display, with the attributes ``lines_``, ``prior_lines_``,
            ``legend_``, ``ax_`` and ``figure_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        from matplotlib.lines import Line2D

        epochs = np.asarray(self.epochs)
        scores = np.asarray(self.scores, dtype=np.float64)  # (E, K)
        n_classes = scores.shape[1]
        caller = f"{type(self).__name__}.plot"
        labels = _labels(self.display_labels, n_classes, caller)
        ax, fig = _new_axes(ax)
        colors = _class_colors(n_classes) if colors is None else colors
        line_kw = {"linewidth": 1.5, **(line_kw or {})}
        self.lines_ = [
            ax.plot(epochs, scores[:, k], color=colors[k], label=labels[k], **line_kw)[
                0
            ]
            for k in range(n_classes)
        ]
        self.prior_lines_ = None
        handles, names = list(self.lines_), list(labels)
        if self.prior is not None:
            prior = np.asarray(self.prior, dtype=np.float64)
            if prior.shape != (n_classes,):
                raise ValueError(
                    f"{caller}: prior has shape {prior.shape} but the scores have "
                    f"{n_classes} classes; pass one share per class."
                )
            prior_kw = {
                "linestyle": "--",
                "linewidth": 1.0,
                "alpha": 0.8,
                **(prior_kw or {}),
            }
            self.prior_lines_ = [
                ax.axhline(prior[k], color=colors[k], **prior_kw)
                for k in range(n_classes)
            ]
            handles.append(Line2D([], [], color="grey", **prior_kw))
            names.append("prior share")
        name = {"f1": "F1", None: "score"}.get(self.metric_name, self.metric_name)
        ax.set(
            xlabel="Epoch",
            ylabel=f"Validation {name} per class",
            ylim=(-0.02, 1.02),
        )
        _integer_epochs(ax)
        self.legend_ = _legend_outside(ax, handles, names, "Class") if legend else None
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_history(
        cls,
        history,
        *,
        classes=None,
        prior=None,
        ax=None,
        colors=None,
        legend=True,
        line_kw=None,
        prior_kw=None,
    ):
        """Plot the per-class scores recorded in a training history.

        Parameters
        ----------
        history : skorch History, list of dict or pandas DataFrame
            One entry per epoch with ``class_scores``, e.g. ``net.history`` of
            a net trained with :class:`~skart.ARTCallback`.
        classes : array-like of shape (n_classes,), default=None
            Class labels in the order of the scores.
        prior : array-like of shape (n_classes,), default=None
            Class shares of the training data, drawn dashed.
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        colors : list of colors of shape (n_classes,), default=None
            One matplotlib colour per class.
        legend : bool, default=True
            Draw a legend.
        line_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot`.
        prior_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.axhline`.

        Returns
        -------
        display : ClassScoresDisplay
            The plotted display.
        """
        caller = f"{cls.__name__}.from_history"
        check_matplotlib_support(caller)
        rows = _history_rows(history, caller)
        epochs, scores = _column(rows, "class_scores")
        if not scores:
            raise ValueError(
                f"{caller}: the history has no 'class_scores'. They are recorded "
                "by ARTCallback (and ARTClassifier) when the net has a "
                "validation split."
            )
        scores = np.asarray(scores, dtype=np.float64)
        display = cls(
            epochs,
            scores,
            display_labels=_labels(classes, scores.shape[1], caller),
            prior=prior,
            metric_name=_metric_name(rows),
        )
        return display.plot(
            ax=ax, colors=colors, legend=legend, line_kw=line_kw, prior_kw=prior_kw
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        colors=None,
        legend=True,
        line_kw=None,
        prior_kw=None,
    ):
        """Plot the per-class scores of a fitted :class:`~skart.ARTClassifier`.

        The prior is the training fold's class distribution,
        ``class_counts_ / class_counts_.sum()``.

        Parameters
        ----------
        estimator : ARTClassifier or Pipeline
            A fitted classifier (with or without ART: the scores are recorded
            either way), or a fitted pipeline ending with one.
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        colors : list of colors of shape (n_classes,), default=None
            One matplotlib colour per class.
        legend : bool, default=True
            Draw a legend with the labels of ``classes_``.
        line_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot`.
        prior_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.axhline`.

        Returns
        -------
        display : ClassScoresDisplay
            The plotted display.
        """
        estimator, history, classes = _fitted_history(
            estimator, f"{cls.__name__}.from_estimator"
        )
        return cls.from_history(
            history,
            classes=classes,
            prior=_prior_of(estimator),
            ax=ax,
            colors=colors,
            legend=legend,
            line_kw=line_kw,
            prior_kw=prior_kw,
        )


def _restored_epoch(estimator):
    """Epoch whose weights early stopping restored, or None."""
    from skorch.callbacks import EarlyStopping

    net = getattr(estimator, "net_", None)
    for _, callback in getattr(net, "callbacks_", []):
        if isinstance(callback, EarlyStopping) and callback.load_best:
            return getattr(callback, "best_epoch_", None) or None
    return None


class LossCurveDisplay:
    """Training and validation loss over the epochs, best epoch marked.

    Build it with :meth:`from_estimator` or :meth:`from_history`; all
    parameters are stored as attributes.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        Epoch numbers (1-based).
    train_loss : array-like of shape (n_epochs,)
        Mean training loss of each epoch.
    valid_loss : array-like of shape (n_epochs,), default=None
        Validation loss of each epoch; ``None`` without a validation split.
    best_epoch : int, default=None
        Epoch to mark on the validation curve, e.g. the one whose weights
        early stopping restored. ``None`` marks nothing.

    Attributes
    ----------
    train_line_ : matplotlib Line2D
        The training loss.
    valid_line_ : matplotlib Line2D or None
        The validation loss.
    best_marker_ : matplotlib Line2D or None
        The marker of the best epoch.
    legend_ : matplotlib Legend or None
        The legend, when drawn.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    SamplingDistributionDisplay : How ART sampled the classes.
    ClassScoresDisplay : Per-class validation scores.

    Notes
    -----
    Under ART the training loss is measured on resampled batches, in which
    rare classes are over-represented, so it is not comparable with the
    validation loss (measured on the natural class mix) nor with the training
    loss of a run without ART.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_classification
    >>> from skart import ARTClassifier, LossCurveDisplay
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = ARTClassifier(max_epochs=4, random_state=0).fit(X, y)
    >>> disp = LossCurveDisplay.from_estimator(clf)
    >>> disp.epochs
    array([1, 2, 3, 4])
    >>> 1 <= disp.best_epoch <= 4
    True
    """

    def __init__(self, epochs, train_loss, valid_loss=None, *, best_epoch=None):
        self.epochs = epochs
        self.train_loss = train_loss
        self.valid_loss = valid_loss
        self.best_epoch = best_epoch

    def plot(self, *, ax=None, legend=True, train_kw=None, valid_kw=None, best_kw=None):
        """Plot the loss curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        legend : bool, default=True
            Draw a legend.
        train_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            training loss.
        valid_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            validation loss.
        best_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            best-epoch marker.

        Returns
        -------
        display : LossCurveDisplay
            The display, with the attributes ``train_line_``,
            ``valid_line_``, ``best_marker_``, ``legend_``, ``ax_`` and
            ``figure_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        epochs = np.asarray(self.epochs)
        ax, fig = _new_axes(ax)
        train_kw = {"color": "C0", "label": "training loss", **(train_kw or {})}
        self.train_line_ = ax.plot(
            epochs, np.asarray(self.train_loss, dtype=np.float64), **train_kw
        )[0]
        self.valid_line_ = self.best_marker_ = None
        if self.valid_loss is not None:
            valid = np.asarray(self.valid_loss, dtype=np.float64)
            valid_kw = {"color": "C1", "label": "validation loss", **(valid_kw or {})}
            self.valid_line_ = ax.plot(epochs, valid, **valid_kw)[0]
            if self.best_epoch is not None:
                at = np.flatnonzero(epochs == self.best_epoch)
                if at.size == 0:
                    raise ValueError(
                        f"{type(self).__name__}.plot: best_epoch={self.best_epoch} "
                        f"is not one of the epochs {epochs[0]}..{epochs[-1]}."
                    )
                best_kw = {
                    "marker": "o",
                    "markersize": 8,
                    "markerfacecolor": "none",
                    "markeredgewidth": 1.5,
                    "color": "k",
                    "linestyle": "none",
                    "label": f"best epoch ({self.best_epoch})",
                    **(best_kw or {}),
                }
                self.best_marker_ = ax.plot(self.best_epoch, valid[at[0]], **best_kw)[0]
        ax.set(xlabel="Epoch", ylabel="Loss")
        _integer_epochs(ax)
        self.legend_ = ax.legend(frameon=False) if legend else None
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_history(
        cls,
        history,
        *,
        best_epoch=None,
        ax=None,
        legend=True,
        train_kw=None,
        valid_kw=None,
        best_kw=None,
    ):
        """Plot the losses recorded in a skorch history.

        Parameters
        ----------
        history : skorch History, list of dict or pandas DataFrame
            One entry per epoch with ``train_loss`` (and ``valid_loss``).
        best_epoch : int, default=None
            Epoch to mark. ``None`` marks the epoch with the lowest validation
            loss (the last one skorch flagged ``valid_loss_best``).
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        legend : bool, default=True
            Draw a legend.
        train_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            training loss.
        valid_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            validation loss.
        best_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            best-epoch marker.

        Returns
        -------
        display : LossCurveDisplay
            The plotted display.
        """
        caller = f"{cls.__name__}.from_history"
        check_matplotlib_support(caller)
        rows = _history_rows(history, caller)
        epochs, train = _column(rows, "train_loss")
        if not train:
            raise ValueError(f"{caller}: the history has no 'train_loss'.")
        valid_epochs, valid = _column(rows, "valid_loss")
        if valid and not np.array_equal(valid_epochs, epochs):
            raise ValueError(
                f"{caller}: 'valid_loss' is recorded at other epochs than "
                "'train_loss'; pass a history with both at every epoch."
            )
        valid = np.asarray(valid, dtype=np.float64) if valid else None
        if best_epoch is None and valid is not None:
            flagged_at, flags = _column(rows, "valid_loss_best")
            flagged = flagged_at[np.asarray(flags, dtype=bool)] if flags else []
            if len(flagged):
                best_epoch = int(flagged[-1])
            elif np.isfinite(valid).any():
                best_epoch = int(epochs[np.nanargmin(valid)])
        train = np.asarray(train, dtype=np.float64)
        display = cls(epochs, train, valid, best_epoch=best_epoch)
        return display.plot(
            ax=ax, legend=legend, train_kw=train_kw, valid_kw=valid_kw, best_kw=best_kw
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        legend=True,
        train_kw=None,
        valid_kw=None,
        best_kw=None,
    ):
        """Plot the losses of a fitted :class:`~skart.ARTClassifier`.

        The marked epoch is the one whose weights early stopping restored
        (``patience`` set), else the one with the lowest validation loss.

        Parameters
        ----------
        estimator : ARTClassifier or Pipeline
            A fitted classifier, or a fitted pipeline ending with one.
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        legend : bool, default=True
            Draw a legend.
        train_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            training loss.
        valid_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            validation loss.
        best_kw : dict, default=None
            Keywords passed to :meth:`matplotlib.axes.Axes.plot` for the
            best-epoch marker.

        Returns
        -------
        display : LossCurveDisplay
            The plotted display.
        """
        estimator, history, _ = _fitted_history(
            estimator, f"{cls.__name__}.from_estimator"
        )
        return cls.from_history(
            history,
            best_epoch=_restored_epoch(estimator),
            ax=ax,
            legend=legend,
            train_kw=train_kw,
            valid_kw=valid_kw,
            best_kw=best_kw,
        )
