"""Offline tasks: sklearn digits, MNIST-1D (generated here), MNIST IDX files, reward prediction.

Nothing is downloaded. ``digits`` needs scikit-learn (its 8×8 digits ship inside the wheel);
``mnist1d`` is generated procedurally from the description of Greydanus (2020); ``mnist`` reads the
four IDX files a user supplies; ``reward`` is the scalar reward-amount task used for FA_Ex-100%.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import suggest
from .errors import BridgeError, ShapeError, UnknownBridgeNameError
from .training import Dataset

__all__ = [
    "TASKS",
    "load_task",
    "load_digits",
    "make_mnist1d",
    "load_mnist_idx",
    "read_idx",
    "reward_prediction_task",
]

TASKS = ("digits", "mnist1d", "mnist", "reward")


def _split(name: str, x: np.ndarray, y: np.ndarray, n_test: int, seed: int, **extra) -> Dataset:
    order = np.random.default_rng(seed).permutation(len(y))
    test, train = order[:n_test], order[n_test:]
    return Dataset(name, x[train], y[train], x[test], y[test], **extra)


def load_digits(seed: int = 0, test_fraction: float = 0.25) -> Dataset:
    """The 1797 8×8 UCI digits shipped with scikit-learn, pixels scaled to [0, 1].

    The split is fixed by `seed` (1347 train / 450 test by default), independent of training seeds.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise BridgeError(
            "the digits task needs scikit-learn (pip install scikit-learn); "
            "or use --task mnist1d, which is generated offline"
        ) from None
    bunch = sklearn_digits()
    x = bunch.data.astype(float) / 16.0
    y = bunch.target.astype(int)
    return _split("digits", x, y, int(round(test_fraction * len(y))), seed, n_classes=10)


# The ten 12-point digit templates of MNIST-1D (Greydanus 2020, Apache-2.0), as published.
_MNIST1D_TEMPLATES = np.array(
    [
        [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
        [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
        [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
        [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
        [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
        [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
        [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
        [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
        [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
        [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
    ]
)


def _resample(signal: np.ndarray, length: int) -> np.ndarray:
    from scipy.interpolate import interp1d  # imported here: scipy.interpolate is slow to load

    return interp1d(np.linspace(0, 1, len(signal)), signal)(np.linspace(0, 1, length))


def make_mnist1d(
    n_samples: int = 5000,
    *,
    train_fraction: float = 0.8,
    length: int = 40,
    padding: tuple[int, int] = (36, 60),
    scale_coefficient: float = 0.4,
    max_translation: int = 48,
    correlated_noise: float = 0.25,
    iid_noise: float = 0.02,
    shear: float = 0.75,
    seed: int = 42,
) -> Dataset:
    """Generate MNIST-1D (Greydanus 2020) offline: 10 classes of 1-D signals, `length` points.

    Each sample takes its class template (normalised to zero start, unit std, /6), pads it with a
    random number of zeros in `padding`, stretches it to ``12 + padding[1]`` points, scales it by
    ``1 ± scale_coefficient/2``, rolls it by up to `max_translation`, fills the padding with
    Gaussian-smoothed noise, adds i.i.d. noise, shears it and subsamples it to `length` points.
    The whole set is then standardised. Defaults follow the published recipe (4000/1000 split);
    the random stream is our own, so samples differ from the reference pickle, not in kind.
    """
    if n_samples < 10 or not 0 < train_fraction < 1:
        raise ShapeError("MNIST-1D needs n_samples >= 10 and 0 < train_fraction < 1")
    rng = np.random.default_rng(seed)
    templates = _MNIST1D_TEMPLATES - _MNIST1D_TEMPLATES.mean(1, keepdims=True)
    templates /= templates.std(1, keepdims=True)
    templates = (templates - templates[:, :1]) / 6.0
    stretched = templates.shape[1] + padding[1]
    per_class = n_samples // 10
    xs, ys = [], []
    for label in range(10):
        for _ in range(per_class):
            n_pad = padding[0] + int(rng.random() * (padding[1] - padding[0] + 1))
            x = np.concatenate([templates[label] + 1e-8, np.zeros(n_pad)])  # eps: keep signal != 0
            x = _resample(x, stretched)
            x *= 1.0 + scale_coefficient * (rng.random() - 0.5)
            x = np.roll(x, int(rng.integers(max_translation)))
            from scipy.ndimage import gaussian_filter1d

            background = gaussian_filter1d(correlated_noise * rng.standard_normal(x.shape), 2)
            x = np.where(x != 0, x, background) + iid_noise * rng.standard_normal(x.shape)
            x = x - shear * (rng.random() - 0.5) * np.linspace(-0.5, 0.5, len(x))
            xs.append(_resample(x, length))
            ys.append(label)
    order = rng.permutation(len(ys))
    x, y = np.asarray(xs)[order], np.asarray(ys)[order]
    x = (x - x.mean()) / x.std()
    n_train = int(len(y) * train_fraction)
    return Dataset("mnist1d", x[:n_train], y[:n_train], x[n_train:], y[n_train:], n_classes=10)


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (MNIST format, optionally gzipped) into an array."""
    path = Path(path)
    if not path.is_file():
        raise BridgeError(
            f"IDX file {path} does not exist; pass the directory holding the MNIST files"
        )
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise BridgeError(f"{path} is not an IDX file (bad magic number); expected MNIST IDX data")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise BridgeError(f"{path}: unknown IDX element type 0x{raw[2]:02x}")
    n_dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    data = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * n_dims)
    if data.size != int(np.prod(shape)):
        raise BridgeError(f"{path}: header says shape {shape} but holds {data.size} values")
    return data.reshape(shape)


def _find(directory: Path, stem: str) -> Path:
    for candidate in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (directory / candidate).is_file():
            return directory / candidate
    raise BridgeError(
        f"no {stem}[.gz] in {directory}; put the four MNIST IDX files (train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) there"
    )


def load_mnist_idx(directory: str | Path, limit: int | None = None) -> Dataset:
    """MNIST from the user's IDX files in `directory`; pixels scaled to [0, 1], images flattened.

    `limit` keeps the first `limit` training images (and a sixth as many test images).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise BridgeError(f"MNIST directory {directory} does not exist; pass --mnist-dir DIR")
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(_find(directory, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(_find(directory, f"{prefix}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ShapeError(
                f"{directory}: {prefix} images {images.shape} and labels {labels.shape} do not "
                "match; expected (n, rows, cols) images and n labels"
            )
        n = (
            len(labels)
            if limit is None
            else min(len(labels), limit if split == "train" else max(1, limit // 6))
        )
        parts[split] = (images[:n].reshape(n, -1).astype(float) / 255.0, labels[:n].astype(int))
    n_classes = int(max(parts["train"][1].max(), parts["test"][1].max())) + 1
    return Dataset("mnist", *parts["train"], *parts["test"], n_classes=n_classes)


def reward_prediction_task(
    n_train: int = 500,
    n_test: int = 500,
    *,
    n_inputs: int = 40,
    n_components: int = 4,
    amounts: tuple[float, ...] = (0.0, 1 / 3, 2 / 3, 1.0),
    noise: float = 0.1,
    seed: int = 0,
) -> Dataset:
    """Scalar reward-amount prediction (after the mouse task of Konishi et al. 2023).

    Mice learned which odour predicts which amount of reward (Lee et al. 2021). Here an odour is
    one of `n_components` sparse non-negative receptor patterns (a random quarter of the
    `n_inputs` channels, rates in [0.5, 1]) or a mixture of two of them; each of these stimuli
    predicts one of the reward `amounts`. Mixtures get their own amount, not the sum of their
    parts, so a linear readout of the receptors cannot solve the task and the middle layer has to
    learn a representation. Every trial adds Gaussian receptor noise (std `noise`) and rectifies,
    so inputs stay non-negative and can be read as firing rates (Poisson coding in spikes).

    Returns a regression :class:`Dataset` with targets of shape ``(n, 1)`` and ``levels=amounts``
    (accuracy = the predicted amount is closest to the right one).
    """
    if n_components < 2 or n_inputs < n_components or n_train < 1 or n_test < 1:
        raise ShapeError("reward task needs n_components >= 2, n_inputs >= n_components, n >= 1")
    rng = np.random.default_rng(seed)
    components = np.zeros((n_components, n_inputs))
    active = max(1, n_inputs // 4)
    for c in range(n_components):
        channels = rng.choice(n_inputs, size=active, replace=False)
        components[c, channels] = rng.uniform(0.5, 1.0, size=active)
    pairs = [(i, j) for i in range(n_components) for j in range(i + 1, n_components)]
    stimuli = np.vstack([components, [components[i] + components[j] for i, j in pairs]])
    levels = np.asarray(amounts, dtype=float)
    # Every amount appears; the rest are drawn, so the mapping is configural, not additive.
    rewards = np.concatenate([levels, rng.choice(levels, size=len(stimuli) - len(levels))])
    rewards = rng.permutation(rewards)[: len(stimuli)]

    def trials(n: int) -> tuple[np.ndarray, np.ndarray]:
        which = rng.integers(len(stimuli), size=n)
        x = np.maximum(stimuli[which] + noise * rng.standard_normal((n, n_inputs)), 0.0)
        return x, rewards[which][:, None]

    x_train, y_train = trials(n_train)
    x_test, y_test = trials(n_test)
    return Dataset("reward", x_train, y_train, x_test, y_test, n_classes=0, levels=levels)


def load_task(
    name: str, *, seed: int = 0, mnist_dir: str | Path | None = None, **options
) -> Dataset:
    """A task by name: ``digits``, ``mnist1d``, ``mnist`` (needs `mnist_dir`) or ``reward``."""
    if name == "digits":
        return load_digits(seed=seed, **options)
    if name == "mnist1d":
        return make_mnist1d(**options)
    if name == "mnist":
        if mnist_dir is None:
            raise BridgeError("the mnist task reads your IDX files; pass --mnist-dir DIR")
        return load_mnist_idx(mnist_dir, **options)
    if name == "reward":
        return reward_prediction_task(seed=seed, **options)
    raise UnknownBridgeNameError(
        f"unknown task {name!r}.{suggest(name, TASKS)} Known tasks: {', '.join(TASKS)}"
    )
