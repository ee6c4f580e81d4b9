"""Export a fitted network estimator to ONNX for serving (``to_onnx``).

The graph is the estimator's network followed by the softmax: it maps a
float32 batch of any size, of the shape ``fit`` saw, to the probabilities
``predict_proba`` returns (as float32). The decision rule (``classes_`` and
``decision_offsets_``) stays in Python; :func:`export_onnx`'s caller
documents how to apply it. torch's exporter (``dynamo=True``) needs the
optional packages ``onnx`` and ``onnxscript`` (``pip install 'skart[onnx]'``,
which also installs ``onnxruntime`` to run the file).
"""

import contextlib
import copy
import importlib
import os
import secrets
import warnings

import torch

from ._persistence import _sync_directory

# What torch.onnx.export(dynamo=True) imports, and what the error names.
REQUIRED = ("onnx", "onnxscript")
INSTALL = "pip install 'skart[onnx]' (onnx, onnxscript and onnxruntime)"

INPUT_NAME = "X"
OUTPUT_NAME = "proba"


class ProbabilityModel(torch.nn.Module):
    """A network's logits followed by the softmax over classes (dimension 1)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, X):
        return torch.softmax(self.module(X), dim=1)


def check_onnx_installed(owner):
    """Import the exporter's optional packages; a clear ImportError without them."""
    missing = []
    for name in REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f"{owner}.to_onnx needs the optional packages {', '.join(REQUIRED)} "
            f"(not installed: {', '.join(missing)}). Install them with {INSTALL}."
        )


def input_shape_of(estimator, input_shape):
    """The shape of one row: ``input_shape`` as given, or the one ``fit`` saw.

    ``fit`` records ``n_features_in_`` (the second dimension of X) and the
    default module's ``n_features`` (the product of all but the first): when
    they differ, X had more than two dimensions and the caller must say which.
    """
    if input_shape is not None:
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
            raise ValueError(
                "input_shape is the shape of one row of X, a tuple of positive "
                f"ints such as (3, 32, 32); got {input_shape!r}."
            )
        return shape
    n_features = estimator.net_.get_params_for("module").get("n_features")
    if n_features is not None and n_features != estimator.n_features_in_:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on X of more than two "
            f"dimensions (rows of {n_features} values, {estimator.n_features_in_} "
            "along the second dimension): pass the shape of one row, e.g. "
            "input_shape=(3, 32, 32)."
        )
    return (estimator.n_features_in_,)


def export_onnx(estimator, path, input_shape=None, opset_version=None):
    """Write ``estimator.net_.module_`` and the softmax to ``path`` as ONNX.

    The network is copied to the CPU in evaluation mode (the fitted one is
    not touched) and exported with torch's exporter, the batch dimension
    dynamic. A path is written atomically (a temporary file beside it,
    synced, then renamed), as :meth:`save_fitted` does.
    """
    owner = type(estimator).__name__
    check_onnx_installed(owner)
    shape = input_shape_of(estimator, input_shape)
    model = ProbabilityModel(copy.deepcopy(estimator.net_.module_).cpu()).eval()
    # Two rows: torch.export specialises a dimension of size 1 to a constant.
    example = torch.zeros((2, *shape), dtype=torch.float32)
    batch = torch.export.Dim("batch")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # torch's exporter uses its own deprecated internals (pytree's
            # LeafSpec in torch 2.13): nothing a caller can act on, and an
            # error under -W error.
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            program = torch.onnx.export(
                model,
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes={"X": {0: batch}},
                opset_version=opset_version,
                verbose=False,
            )
    except Exception as exc:
        raise RuntimeError(
            f"torch could not export {owner}'s network ({type(model.module).__name__}) "
            f"to ONNX for float32 input of shape (batch, {', '.join(map(str, shape))}). "
            "If X had another shape in fit, pass input_shape; a module whose "
            "forward uses Python control flow on the data or operations ONNX "
            f"lacks cannot be exported. torch said: {exc}"
        ) from exc
    _write_atomically(program.model_proto.SerializeToString(), path)


def _write_atomically(data, path):
    """Write bytes to a path atomically, or to a file-like object directly."""
    if hasattr(path, "write"):
        path.write(data)
        return
    target = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(target))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)
