"""Receptive-field formation: neurons learn Gabor-like filters from natural images.

Pipeline (``spikeplast demo receptive-fields``)
    1. Images: by default eight natural scenes of scikit-image and scikit-learn's two sample
       photographs (nothing is downloaded), or the user's files / an ``IMAGES.mat``; grey,
       downsampled by 2, z-scored (:mod:`spikeplast.receptive_fields.images`).
    2. Patches (``size × size``, mean removed) whitened by PCA-restricted ZCA (60 % of the
       components kept): training patches for learning, held-out patches for the metrics.
    3. Learning, either
       * ``spiking`` (default): the patches become ON/OFF Poisson rates onto LIF neurons with
         lateral inhibition and homeostatic thresholds whose feed-forward weights learn under the
         chosen rule (:mod:`spikeplast.receptive_fields.network`); a neuron's filter is its ON
         minus its OFF weights; or
       * ``rate``: the rate form of nonlinear Hebbian learning with symmetric decorrelation
         (:mod:`spikeplast.receptive_fields.rate`), the fast comparison.
    4. Metrics (:mod:`spikeplast.analysis`) of the learned filters and of a random control (unit
       vectors in the same whitened space, through the same metrics): Gabor-fit R², orientation
       selectivity with gratings through the same whitening, excess kurtosis of the responses to
       held-out patches, diversity.

Outputs (``--out DIR``): ``receptive_fields.json`` (settings, metrics learned vs control, run
times, versions), ``receptive_fields.npz`` (filters, control, Gabor-fit parameters, per-filter
metrics, weight snapshots) and ``receptive_fields.png`` (learned filters next to their Gabor fits,
the learning curve and the metrics side by side), each written atomically.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import METRICS, GaborFit, compare, fit_gabors, random_control, summarize
from ..errors import ConfigurationError
from ..receptive_fields.images import check_patch_size, load_images, prepare_patches
from ..results import save_figure, save_json, save_npz, to_jsonable, versions
from . import RF_DURATION_S

__all__ = [
    "MODELS",
    "RFSettings",
    "RFResult",
    "run_receptive_fields",
    "rf_record",
    "plot_receptive_fields",
    "save_receptive_fields",
]

#: Learning models of the demo.
MODELS = ("spiking", "rate")

#: Number of held-out patches for the response kurtosis.
N_TEST = 10000


@dataclass(frozen=True)
class RFSettings:
    """Settings of a receptive-field run (the command-line options).

    Attributes
    ----------
    model
        ``"spiking"`` or ``"rate"``.
    rule
        Rule or parameter-set name; default ``brito2016-rf-spiking`` (nonlinear Hebbian). The rate
        model uses its nonlinearity and threshold.
    neurons
        Number of neurons (units of the rate model).
    patch
        Patch side in pixels (after downsampling the images by 2).
    duration_s
        Simulated learning time of the spiking network.
    rate_steps
        Minibatch steps of the rate model (100 patches each).
    images
        Image files, ``.mat`` files or built-in names; default: the built-in set.
    n_train
        Training patches (the whitening is fitted on them).
    """

    model: str = "spiking"
    rule: str | None = None
    neurons: int = 32
    patch: int = 12
    duration_s: float = RF_DURATION_S
    rate_steps: int = 20000
    images: tuple[str, ...] | None = None
    n_train: int = 50000

    def check(self) -> None:
        if self.model not in MODELS:
            raise ConfigurationError(
                f"unknown model {self.model!r}; use one of {', '.join(MODELS)}"
            )
        if int(self.neurons) != self.neurons or self.neurons < 1:
            raise ConfigurationError(f"need at least one neuron, got {self.neurons!r}")
        if not self.duration_s > 0:
            raise ConfigurationError(f"duration must be positive, got {self.duration_s!r} s")
        if int(self.rate_steps) != self.rate_steps or self.rate_steps < 1:
            raise ConfigurationError(f"rate_steps must be >= 1, got {self.rate_steps!r}")


@dataclass
class RFResult:
    """Filters learned by one run, the control, and their metrics."""

    settings: RFSettings
    rule: str
    backend: str
    seed: int | None
    size: int
    kept_components: int
    image_names: tuple[str, ...]
    filters: np.ndarray
    control: np.ndarray
    learned: dict[str, Any]
    random: dict[str, Any]
    network: dict[str, Any] = field(default_factory=dict)
    curve_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    curve_r2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    snapshot_filters: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, float]:
        return self.learned["summary"]

    @property
    def control_summary(self) -> dict[str, float]:
        return self.random["summary"]

    def goals(self) -> dict[str, bool]:
        """The issue's goals for the default spiking run, checked on this run."""
        learned, control = self.summary, self.control_summary
        return {
            "r2_median_at_least_0.8": learned["gabor_r2_median"] >= 0.8,
            "r2_at_least_4x_control": learned["gabor_r2_median"] >= 4 * control["gabor_r2_median"],
            "osi_at_least_control_plus_0.3": learned["osi_median"] >= control["osi_median"] + 0.3,
            "at_least_32_neurons": self.filters.shape[0] >= 32,
        }


def _rate_model(rule_name: str | None, steps: int) -> Any:
    from ..receptive_fields.network import DEFAULT_RULE
    from ..receptive_fields.rate import RateModel
    from ..rules import get_rule
    from ..rules.nonlinear_hebbian import NonlinearHebbian

    rule = get_rule(rule_name or DEFAULT_RULE)
    if not isinstance(rule, NonlinearHebbian):
        raise ConfigurationError(
            f"the rate model is the rate form of nonlinear Hebbian learning; rule "
            f"{rule_name!r} ({rule.kind}) has no rate form here: use --model spiking"
        )
    model = RateModel(nonlinearity=rule.nonlinearity, theta=rule.theta, steps=steps)
    return model, f"{model!r} (rate form of {rule_name or DEFAULT_RULE})"


def _learning_curve(
    snapshots: np.ndarray, times: np.ndarray, size: int, max_points: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Median Gabor R² of the weight snapshots (at most `max_points` of them)."""
    if snapshots.size == 0:
        return np.zeros(0), np.zeros(0)
    chosen = np.unique(
        np.linspace(0, len(snapshots) - 1, min(max_points, len(snapshots))).astype(int)
    )
    r2 = [np.median([f.r2 for f in fit_gabors(snapshots[k], (size, size))]) for k in chosen]
    return np.asarray(times)[chosen], np.asarray(r2)


def run_receptive_fields(
    settings: RFSettings | None = None,
    backend: str | None = None,
    seed: int | None = 1,
    progress: bool = False,
    network_setup: Any = None,
) -> RFResult:
    """Run the whole pipeline (see module doc) and measure the learned filters.

    Parameters
    ----------
    settings
        What to run (defaults: spiking network, nonlinear Hebbian rule, 32 neurons, 10×10
        patches).
    backend
        Backend of the spiking network (``None``/``"auto"``: cpp_standalone if available).
    seed
        Seed of the patches, the initial weights, the simulation and the control.
    network_setup
        :class:`spikeplast.receptive_fields.network.NetworkSetup` overriding the network's
        defaults (``n_neurons`` is taken from `settings`).
    """
    settings = settings or RFSettings()
    settings.check()
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    images = load_images(settings.images)
    check_patch_size(images, settings.patch)
    data = prepare_patches(images, settings.patch, settings.n_train, N_TEST, rng)
    if settings.neurons > data.whitening.kept and settings.model == "rate":
        raise ConfigurationError(
            f"{settings.neurons} units are more than the {data.whitening.kept} whitened "
            f"dimensions of {settings.patch}×{settings.patch} patches; use a larger --patch or "
            "fewer --neurons"
        )
    timings = {"images": time.perf_counter() - started}
    network: dict[str, Any] = {}
    curve_times, curve_r2 = np.zeros(0), np.zeros(0)
    snapshots = np.zeros((0, 0, 0))
    if settings.model == "rate":
        from ..receptive_fields.rate import train_rate_model

        model, rule_text = _rate_model(settings.rule, settings.rate_steps)
        learn_started = time.perf_counter()
        filters, _ = train_rate_model(
            data.train, data.whitening.basis, settings.neurons, model, rng, progress=progress
        )
        timings["learning"] = time.perf_counter() - learn_started
        used_backend = "numpy (rate model)"
        network = {"rate_model": dataclasses.asdict(model)}
    else:
        from brian2 import second

        from ..receptive_fields.network import NetworkSetup, run_network

        setup = network_setup or NetworkSetup()
        setup = dataclasses.replace(setup, n_neurons=settings.neurons)
        spiking = run_network(
            data.train,
            settings.duration_s * second,
            rule=settings.rule,
            setup=setup,
            backend=backend,
            seed=seed,
            progress=progress,
        )
        filters = spiking.filters
        rule_text = repr(spiking.rule)
        used_backend = spiking.backend
        names = {"build": "compile", "run": "simulation", "run_cpu": "simulation_cpu"}
        timings.update({names[k]: v for k, v in spiking.timings.items() if k in names})
        network = {
            "setup": _setup_record(spiking.setup),
            "presentations": spiking.presentations,
            "rate_median_hz": float(np.median(spiking.rates_hz)),
            "rate_range_hz": [float(spiking.rates_hz.min()), float(spiking.rates_hz.max())],
            "silent_neurons": int(np.sum(spiking.rates_hz == 0)),
            "input_rate_hz": spiking.input_rate_hz,
        }
        snapshots = spiking.snapshot_filters
        curve_started = time.perf_counter()
        curve_times, curve_r2 = _learning_curve(snapshots, spiking.snapshot_times, data.size)
        timings["learning_curve"] = time.perf_counter() - curve_started
    if not np.all(np.isfinite(filters)) or np.all(filters == 0):
        raise ConfigurationError("learning produced no usable filters (all zero or not finite)")
    metrics_started = time.perf_counter()
    control = random_control(settings.neurons, data.size**2, rng, data.whitening.basis)
    learned = summarize(filters, data.test, data.whitening)
    random = summarize(control, data.test, data.whitening)
    timings["metrics"] = time.perf_counter() - metrics_started
    timings["total"] = time.perf_counter() - started
    return RFResult(
        settings=settings,
        rule=rule_text,
        backend=used_backend,
        seed=seed,
        size=data.size,
        kept_components=data.whitening.kept,
        image_names=data.image_names,
        filters=filters,
        control=control,
        learned=learned,
        random=random,
        network=network,
        curve_times=curve_times,
        curve_r2=curve_r2,
        snapshot_filters=snapshots,
        timings=timings,
    )


def _setup_record(setup: Any) -> dict[str, Any]:
    from brian2.units.fundamentalunits import Quantity

    from ..params import format_quantity

    record = {}
    for f in dataclasses.fields(setup):
        value = getattr(setup, f.name)
        if isinstance(value, Quantity):
            value = format_quantity(value)
        elif hasattr(value, "values") and callable(value.values):
            value = {"model": type(value).__name__, **{
                k: format_quantity(v) if isinstance(v, Quantity) else v
                for k, v in value.values().items()}}  # fmt: skip
        record[f.name] = value
    return record


def rf_record(result: RFResult) -> dict[str, Any]:
    """The JSON record of a run: settings, metrics learned vs control, goals, timings."""
    return to_jsonable(
        {
            "demo": "receptive-fields",
            "source": "Brito CSN, Gerstner W (2016) PLoS Comput Biol 12:e1005070 (nonlinear "
            "Hebbian learning on whitened natural images)",
            "settings": dataclasses.asdict(result.settings),
            "rule": result.rule,
            "backend": result.backend,
            "seed": result.seed,
            "patch_size": result.size,
            "whitened_components": result.kept_components,
            "images": list(result.image_names),
            "network": result.network,
            "learned": result.summary,
            "control": result.control_summary,
            "comparison": compare(result.summary, result.control_summary),
            "goals": result.goals() if result.settings.model == "spiking" else {},
            "learning_curve": {
                "time_s": result.curve_times,
                "gabor_r2_median": result.curve_r2,
            },
            "timings_s": result.timings,
            "versions": versions(),
        }
    )


def _fit_array(fits: Sequence[GaborFit]) -> np.ndarray:
    return np.array([[getattr(f, name) for name in GaborFit.__dataclass_fields__] for f in fits])


def _image(values: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    image = np.asarray(values).reshape(size, size)
    return image, float(np.max(np.abs(image))) or 1.0


def plot_receptive_fields(result: RFResult, max_filters: int = 64) -> Any:
    """Figure: learned filters with their Gabor fits beside them, learning curve, metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    n = min(result.filters.shape[0], max_filters)
    order = np.argsort(-result.learned["r2"][:n], kind="stable")
    pairs_per_row = 8
    rows = int(math.ceil(n / pairs_per_row))
    figure = plt.figure(figsize=(15, max(4.8, 0.8 * rows + 1.8)))
    outer = GridSpec(1, 2, width_ratios=[1.9, 1], wspace=0.12, figure=figure)
    grid = outer[0].subgridspec(rows, 2 * pairs_per_row, wspace=0.05, hspace=0.35)
    size = result.size
    for position, index in enumerate(order):
        row, column = divmod(position, pairs_per_row)
        image, scale = _image(result.filters[index], size)
        fit = result.learned["fits"][index]
        for offset, (picture, label) in enumerate(
            ((image, f"{index}"), (fit.render((size, size)), f"R² {fit.r2:.2f}"))
        ):
            axis = figure.add_subplot(grid[row, 2 * column + offset])
            axis.imshow(picture, cmap="gray", vmin=-scale, vmax=scale, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_title(label, fontsize=6, pad=1.5)
            for spine in axis.spines.values():
                spine.set_linewidth(0.4 if offset == 0 else 0.2)
    side = outer[1].subgridspec(2, 1, height_ratios=[1, 1.25], hspace=0.35)
    histogram = figure.add_subplot(side[0])
    bins = np.linspace(0, 1, 21)
    histogram.hist(result.random["r2"], bins=bins, color="0.7", label="random control")
    histogram.hist(result.learned["r2"], bins=bins, color="tab:blue", alpha=0.75,
                   label="learned")  # fmt: skip
    histogram.set(xlabel="Gabor-fit R²", ylabel="filters")
    if result.curve_r2.size:
        curve = histogram.inset_axes([0.08, 0.52, 0.38, 0.4])
        curve.plot(result.curve_times / 60, result.curve_r2, "o-", ms=2.5, lw=1, color="tab:blue")
        curve.set_xlabel("learning time (min)", fontsize=6)
        curve.set_ylabel("median R²", fontsize=6)
        curve.set_ylim(0, 1)
        curve.tick_params(labelsize=6)
    histogram.legend(frameon=False, fontsize=8, loc="upper right")
    table = figure.add_subplot(side[1])
    table.axis("off")
    cells = []
    for row in compare(result.summary, result.control_summary):
        cells.append([METRICS[row["metric"]], _number(row["learned"]), _number(row["control"])])
    drawn = table.table(
        cellText=cells,
        colLabels=["metric", "learned", "random"],
        colWidths=[0.74, 0.13, 0.13],
        loc="upper center",
        cellLoc="left",
    )
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(7.5)
    drawn.scale(1, 1.35)
    model = result.settings.model
    detail = (
        f"{result.settings.duration_s:g} s learning, {result.backend}"
        if model == "spiking"
        else f"{result.settings.rate_steps} steps"
    )
    figure.suptitle(
        f"Receptive fields ({model} model, {result.filters.shape[0]} neurons, "
        f"{size}×{size} whitened patches, {detail}, seed {result.seed})\n{_short(result.rule)}",
        fontsize=9,
    )
    return figure


def _number(value: Any) -> str:
    if value is None:
        return "–"
    value = float(value)
    return f"{value:.0f}" if value == int(value) and abs(value) >= 2 else f"{value:.2f}"


def _short(text: str, limit: int = 170) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def save_receptive_fields(result: RFResult, out: str | os.PathLike) -> dict[str, Path]:
    """Write ``receptive_fields.json``, ``.npz`` and ``.png`` to `out` (each atomically)."""
    import matplotlib.pyplot as plt

    out = Path(out)
    paths = {"json": save_json(out / "receptive_fields.json", rf_record(result))}
    arrays = {
        "filters": result.filters,
        "control": result.control,
        "gabor_fits": _fit_array(result.learned["fits"]),
        "control_gabor_fits": _fit_array(result.random["fits"]),
        "gabor_fit_fields": np.array(list(GaborFit.__dataclass_fields__)),
        "curve_times_s": result.curve_times,
        "curve_r2_median": result.curve_r2,
        "snapshot_filters": result.snapshot_filters,
    }
    for key in ("r2", "osi", "kurtosis", "preferred_orientation"):
        arrays[f"{key}"] = result.learned[key]
        arrays[f"control_{key}"] = result.random[key]
    paths["npz"] = save_npz(out / "receptive_fields.npz", arrays)
    figure = plot_receptive_fields(result)
    paths["png"] = save_figure(out / "receptive_fields.png", figure)
    plt.close(figure)
    return paths
