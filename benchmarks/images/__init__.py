"""MNIST as PNG files in class folders, and a hand-written reference loop (issue 21).

The pieces the image benchmark of issue 21 needs: ``make_mnist_lt`` writes
MNIST-LT (or a plain MNIST subsample) as ``<out>/{train,test}/<digit>/*.png``;
``common`` holds the CNN, a folder data set that reads those files, and
augmentations written with torch ops; ``hand_loop`` times a plain
DataLoader-and-Adam loop over such a folder, the reference that the
estimators' data set path is timed against::

    python -m benchmarks.images.make_mnist_lt --data-home ../shared/data --out /tmp/mnist_lt
    python -m benchmarks.images.hand_loop --root /tmp/mnist_lt/train --workers 0 2
"""
