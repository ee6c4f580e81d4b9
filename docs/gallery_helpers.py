"""Helpers of the sphinx-gallery configuration, importable by name (see conf.py)."""

# From first steps to specialised uses; examples not listed come last.
EXAMPLE_ORDER = [
    "plot_quickstart.py",
    "plot_history.py",
    "plot_imblearn_pipeline.py",
    "plot_tuning.py",
    "plot_focal_loss.py",
    "plot_mnist_cnn.py",
    "plot_text_tfidf.py",
]


def reset_torch(gallery_conf, fname):
    """Run each example with one torch thread: the docs build on small CPUs."""
    import torch

    torch.set_num_threads(1)


class ExampleOrder:
    """Sort key of the gallery: EXAMPLE_ORDER first, then by file name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in EXAMPLE_ORDER:
            return EXAMPLE_ORDER.index(filename), filename
        return len(EXAMPLE_ORDER), filename

    def __repr__(self):
        return "ExampleOrder"
