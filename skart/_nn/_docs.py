"""Parameter documentation shared by the network estimators, written once.

A network estimator's docstring documents its own parameters, and those of
the shared ones it describes differently (EGA's ``lr`` is phase 1's, say).
:class:`Substitution` fills in the others from a table of shared entries, in
the order of the estimator's signature, with the default read from that
signature, as imbalanced-learn's ``Substitution`` fills its docstrings.
"""

import inspect
import re

# name -> (type, description). The default is read from the signature.
CORE_PARAMETERS = {
    "module": (
        "torch.nn.Module class or instance",
        """The network; it must return logits of shape ``(n, n_classes)``.
``None`` means :class:`~skart.MLP`. A class whose ``__init__`` takes
``n_features`` or ``n_classes`` gets them from the data unless they are set
as ``module__n_features`` / ``module__n_classes``.""",
    ),
    "metric": (
        '{"f1", "recall", "precision"} or callable',
        """Per-class metric on the validation fold, recorded in the history
(``class_scores``, and their mean as ``valid_<metric>``), watched by
``monitor="metric"`` and maximised by ``decision="tuned"``. A callable is
called as ``metric(y_true, y_pred, labels=labels)`` with class indices and
must return one score in [0, 1] per class (higher is better), e.g.
``functools.partial(fbeta_score, beta=2, average=None, zero_division=0)``.""",
    ),
    "validation_fraction": (
        "float in (0, 1)",
        """Share of each class held out for the validation fold, used by the
per-class scores, early stopping and the decision rule. A class too small for
one validation row stays whole in training.""",
    ),
    "criterion": (
        "torch.nn.Module class or instance",
        """Loss on ``(logits, target)``. ``None`` means cross-entropy. A class
whose ``__init__`` takes ``class_counts`` gets the training fold's class
counts (see :mod:`skart.losses`).""",
    ),
    "optimizer": (
        "torch.optim.Optimizer class",
        "AdamW and Adam run fused kernels unless ``optimizer__fused`` is set.",
    ),
    "lr": ("float", "Learning rate."),
    "max_epochs": ("int", "Maximum number of epochs."),
    "batch_size": (
        "int",
        """Training minibatch size. Validation and prediction run in batches of
``4 * batch_size`` unless ``iterator_valid__batch_size`` is set.""",
    ),
    "train_transform": (
        "callable or None",
        """Augmentation: called on the input of each training item as a batch is
read, e.g. a ``torchvision.transforms.v2.Compose``. It runs per item in the
``DataLoader`` workers (``iterator_train__num_workers``), with ``X`` a torch
Dataset or an array (whose rows are then read one at a time), and on training
items only: the validation fold and ``predict`` see the inputs as they are.
Its random draws come from torch's generator, which the fit seeds: with
workers, each worker's from the fit's seed (reproducible in threads and
processes alike); without, the main process's (reproducible one fit at a
time). ``None`` reads batches by tensor indexing, without a ``DataLoader``.
EGA and AutoSMOTE, which synthesise feature vectors, refuse it.""",
    ),
    "patience": (
        "int or None",
        """Early stopping patience in epochs on what ``monitor`` watches (the
best weights are restored); ``None`` trains for ``max_epochs``.""",
    ),
    "monitor": (
        '{"loss", "metric", "loss_or_metric", "average_precision", "roc_auc", '
        '"log_loss"}, scorer name or callable',
        """What early stopping watches on the validation fold, and which
epoch's weights it restores. ``"loss"``: the loss. ``"metric"``: the mean of
the per-class ``metric`` (macro F1 by default). ``"loss_or_metric"``:
training goes on while either improves, and the best metric epoch is restored
(the metric alone stops on the majority-class plateau of the first epochs).
The user guide has the measurements. A score of the validation fold's class
probabilities (``predict_proba`` of the epoch's network, read from the
validation pass the network already makes) is computed once per epoch,
weighted by the fold's sample weights, and recorded in the history as
``valid_<name>``: ``"average_precision"`` and ``"roc_auc"`` (of
``classes_[1]`` for two classes; else the macro mean one-vs-rest over the
classes with a validation row, and, for ``roc_auc``, a row of another
class), ``"log_loss"`` (lower is better), the name of any scikit-learn
scorer (``sklearn.metrics.get_scorer_names()``, e.g. ``"neg_brier_score"``,
``"balanced_accuracy"``; greater is better, as the scorer's sign makes it;
the scorer sees encoded classes ``0, 1, ...``, class 1 positive, labels the
argmax of the probabilities, and a metric that takes no sample weight scores
unweighted), or a callable ``monitor(y_true, proba)`` of the class indices
and the probabilities returning a float where greater is better (given
``sample_weight=`` too when it takes it and the fit is weighted), recorded
as ``valid_<__name__>`` (``valid_monitor`` for a lambda). An epoch whose
score is not defined (``roc_auc`` with one class in the validation fold,
say) records NaN, with an ``UndefinedMetricWarning`` once per training run,
and never counts as an improvement; a scorer or callable that raises stops
``fit`` with a ``ValueError`` naming the epoch.""",
    ),
    "decision": (
        '{"argmax", "tuned"}',
        """The rule of ``predict``. ``"argmax"``: the most probable class.
``"tuned"``: per-class offsets on the log-probabilities, fitted after
training to maximise the mean per-class ``metric`` on the validation fold
(for two classes, a decision threshold on the positive class's probability),
ties kept at the argmax rule. ``predict_proba`` is the network's softmax
either way. The user guide has the measurements behind the default.""",
    ),
    "lr_schedule": (
        '{"cosine"} or None',
        "Cosine annealing of the learning rate over ``max_epochs``.",
    ),
    "device": (
        "str or torch.device",
        """Where the network trains. With a GPU, dense training data are moved
there once and batches are indexed in place.""",
    ),
    "precision": (
        '{"float32", "bfloat16", "float16"}',
        """Mixed precision: the forward passes of training and prediction run
under :func:`torch.autocast` in this dtype, the parameters and optimiser
state stay float32 and ``predict_proba`` returns float64 as always.
``"float32"`` uses no autocast at all. ``"bfloat16"`` needs no loss scaling
(it has float32's range) and runs on the CPU and recent GPUs; whether it is
faster depends on the hardware (the user guide's performance page has
measurements: on a CPU without bfloat16 units it is slower). ``"float16"``
needs a CUDA device and trains with a gradient scaler
(``torch.amp.GradScaler``); fit refuses it on the CPU. EGA's phase-2 meta
step and AutoSMOTE's ``objective="bilevel"`` refuse ``"float16"``: they
differentiate through a gradient step (a second-order gradient that
float16's range underflows) and set gradients by hand, which a gradient
scaler cannot drive; with ``"bfloat16"`` their forward passes, the
look-ahead's included, are autocast. AutoSMOTE's decision networks run in
float32.""",
    ),
    "compile": (
        "bool",
        """Compile the network's forward with :func:`torch.compile` when
training begins (the first epoch waits for the compilation) and use it for
the fit's training and evaluation passes and for the fitted estimator's
predictions in the same process. The module itself is not replaced, so
saved files, checkpoints, ``to_onnx`` and pickles hold the plain module's
weights; an estimator loaded with :func:`skart.load_fitted` or unpickled
predicts with the plain module and compiles nothing. The look-ahead steps of
EGA's phase 2 and AutoSMOTE's ``objective="bilevel"`` (a double backward,
which compiled graphs do not support) run the plain module.""",
    ),
    "callbacks": (
        "list of skorch callbacks or (name, callback) tuples",
        "Extra callbacks, run after the estimator's own.",
    ),
    "verbose": (
        "int",
        "0 is silent, 1 prints an epoch table, 2 adds a progress bar.",
    ),
    "random_state": (
        "int, RandomState instance or None",
        """Seeds the split, the sampling and the fit's own torch generators
(initial weights, dropout), so that ``fit`` is reproducible on CPU: the same
model whether fits run one after another, in threads or in processes.""",
    ),
    "class_weight": (
        'dict, "balanced" or None',
        """Weights of the classes, ``{label: weight}``, as scikit-learn's
classifiers take them: each row's weight is multiplied by its class's (and by
its ``sample_weight`` if given). ``"balanced"`` weighs each class by
``n_samples / (n_classes * np.bincount(y))`` on the ``y`` given to ``fit``,
so ``class_weight="balanced"`` gives the same model as
``sample_weight=compute_sample_weight("balanced", y)``. A class missing from
the dict weighs 1; a key that is not a class is refused. ``None`` weighs
every class 1.""",
    ),
    "warm_start": (
        "bool",
        """If True, a second ``fit`` continues the fitted network: its
weights, the optimiser's state and the history go on for ``max_epochs`` more
epochs (with a new cosine cycle from ``lr`` and early stopping counted
afresh). The data must have the same features and classes; the validation
fold is drawn again.""",
    ),
    "distributed": (
        "bool",
        """Train one model data-parallel on every process of a
``torch.distributed`` process group (start the script with ``torchrun`` and
call ``torch.distributed.init_process_group`` before ``fit``). See the
"Scaling out" page of the documentation.""",
    ),
    "checkpoint": (
        "str, path-like or Checkpoint",
        """A directory where ``fit`` writes its whole training state at the
end of every epoch (atomically): a fit killed part-way (a preempted machine,
an out-of-memory kill) and started again with the same directory, data and
parameters resumes from the last complete epoch and ends with bitwise the
model of an uninterrupted fit. A directory written for other data or
parameters is refused. The files are removed after a successful fit unless
given as ``Checkpoint(dir, keep=True)``. ``None`` writes nothing. See
"Resuming a fit" in the user guide for what it costs per epoch.""",
    ),
    "**kwargs": (
        None,
        """Routed parameters: ``module__*``, ``criterion__*``,
``optimizer__*``, ``iterator_train__*``, ``iterator_valid__*``,
``callbacks__*``.""",
    ),
}

_SECTION = re.compile(r"^( *)Parameters\n\1-{10}\n", re.MULTILINE)
_ENTRY = re.compile(r"^(\*{0,2}\w+)(?: : .*)?$")


def _default_text(value):
    if isinstance(value, type):
        module = value.__module__
        if module.startswith("torch.optim"):
            module = "torch.optim"
        return f"{module}.{value.__qualname__}"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _entries(lines, indent):
    """The entries of a Parameters section, name -> list of lines, in order."""
    entries, name = {}, None
    for line in lines:
        body = line[len(indent) :] if line.startswith(indent) else line.strip()
        match = _ENTRY.match(body) if not body.startswith(" ") else None
        if match and line.strip():
            name = match.group(1)
            entries[name] = [line]
        elif name is not None:
            entries[name].append(line)
    return entries


class Substitution:
    """Fill in a class docstring's Parameters section from shared entries.

    Parameters
    ----------
    *tables : dict
        Shared entries, ``name -> (type, description)``; later tables win.
        The type ``None`` writes the name alone (``**kwargs``).
    """

    def __init__(self, *tables):
        self.shared = {k: v for table in tables for k, v in table.items()}

    def __call__(self, cls):
        cls.__doc__ = self.fill(cls.__doc__, inspect.signature(cls.__init__))
        return cls

    def fill(self, doc, signature):
        """``doc`` with the signature's shared parameters documented."""
        match = _SECTION.search(doc)
        if match is None:
            raise ValueError("the docstring has no Parameters section to fill")
        indent = match.group(1)
        start = match.end()
        # The section ends at the next header (a line of dashes under a title).
        rest = doc[start:].split("\n")
        end = len(rest)
        for i in range(1, len(rest)):
            if re.fullmatch(indent + r"-{3,}", rest[i]):
                end = i - 1
                break
        own = _entries(rest[:end], indent)
        lines = []
        for param in signature.parameters.values():
            if param.name == "self":
                continue
            name = "**" + param.name if param.kind is param.VAR_KEYWORD else param.name
            if name in own:
                block = own[name]
                while block and not block[-1].strip():
                    block = block[:-1]
                lines += block
                continue
            if name not in self.shared:
                raise ValueError(f"parameter {name!r} is documented nowhere")
            kind, text = self.shared[name]
            head = name
            if kind is not None:
                head = f"{name} : {kind}, default={_default_text(param.default)}"
            lines.append(indent + head)
            lines += [indent + "    " + t for t in text.split("\n")]
        tail = rest[end:]
        return doc[:start] + "\n".join(lines) + "\n\n" + "\n".join(tail).lstrip("\n")
