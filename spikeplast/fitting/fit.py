"""Fitting a rule's free parameters to plasticity data: multi-start, uncertainty, diagnostics.

:func:`fit_rule` is what ``spikeplast fit`` runs:

1. load the data sets as targets (one protocol condition per data row);
2. build an evaluator for the free parameters (Numba for trace-based rules, else Brian2);
3. run ``restarts`` local fits from seeded start points (the rule's own values first) in
   parallel processes, and keep the lowest χ²;
4. estimate how well each parameter is pinned (profile likelihood or bootstrap, see
   :mod:`spikeplast.fitting.uncertainty`) and check local identifiability;
5. evaluate the published parameter set (if there is one) under the same error measure.

Problems are reported, not hidden: a best fit that did not converge, a profile that finds a
lower error, a parameter with no effect or no bound from the data all appear in
:attr:`FitResult.problems`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import ConfigurationError, ParameterError, SpikeplastError
from ..params import ParameterSet
from ..protocols import protocol_conventions
from ..rule import Rule
from ..rules import parameter_sets, resolve
from .evaluators import FAST_RULES, make_evaluator
from .parallel import default_workers, run_tasks
from .parameters import (
    FreeParameter,
    apply_fixed,
    canonical_name,
    default_free_names,
    free_parameters,
    parse_names,
    si_value,
)
from .problem import METHODS, FitProblem, LocalFit, local_fit
from .targets import Target, all_conditions, load_targets
from .uncertainty import (
    Identifiability,
    ProfileSide,
    bootstrap_replicate,
    chi2_threshold,
    local_identifiability,
    profile_side,
)

__all__ = ["fit_rule", "FitResult", "ParameterEstimate", "CI_METHODS", "start_points"]

#: Ways of estimating confidence intervals.
CI_METHODS = ("profile", "bootstrap", "none")

#: Relative χ² difference within which a start counts as having reached the best fit.
_SAME_MINIMUM = 1e-6


@dataclass
class ParameterEstimate:
    """A fitted parameter with its confidence interval and diagnostics (values in SI).

    Attributes
    ----------
    parameter
        Name, unit, bounds and scale.
    value
        Best-fit value.
    lower, upper
        Confidence interval; ``None`` on a side the data do not constrain.
    published
        Value in the published parameter set compared with, if any.
    notes
        Diagnostics (at a bound, unconstrained, no effect).
    """

    parameter: FreeParameter
    value: float
    lower: float | None = None
    upper: float | None = None
    published: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.parameter.name

    @property
    def constrained(self) -> bool:
        return (
            self.lower is not None
            and self.upper is not None
            and not any("no effect" in n for n in self.notes)
        )


@dataclass
class FitResult:
    """Everything a fit produced; :mod:`spikeplast.fitting.report` turns it into output.

    Attributes
    ----------
    rule_name
        The rule as given (registry name, family or file).
    rule
        The rule with the fitted values.
    start_rule
        The rule with the fixed values, before fitting.
    fixed
        Fixed values as given.
    estimates
        One per free parameter.
    targets
        The data sets.
    model
        Fitted ``dw_percent`` per data row (targets concatenated).
    chi2, error
        χ² and E = χ²/N at the best fit.
    converged
        Whether the best fit converged (and no profile found a lower error).
    problems
        Human-readable warnings (non-convergence, identifiability).
    starts
        Per start: start and end values (SI), E, converged, evaluations.
    published
        Comparison with a published set: ``name``, ``source``, ``values``, ``model``, ``error``.
    ci
        ``method``, ``level`` and its details (threshold, samples).
    """

    rule_name: str
    rule: Rule
    start_rule: Rule
    fixed: dict[str, str]
    estimates: list[ParameterEstimate]
    targets: list[Target]
    model: np.ndarray
    chi2: float
    error: float
    converged: bool
    problems: list[str]
    starts: list[dict[str, Any]]
    published: dict[str, Any] | None
    ci: dict[str, Any]
    method: str
    evaluator: str
    seed: int
    evaluations: int
    timings: dict[str, float]
    identifiability: Identifiability
    profiles: list[ProfileSide] = field(default_factory=list)
    bootstrap: np.ndarray | None = None

    @property
    def n_data(self) -> int:
        return int(self.model.size)

    @property
    def values(self) -> dict[str, float]:
        return {e.name: e.value for e in self.estimates}


def _published_set(
    rule_name: str | Rule, rule: Rule, compare: str | None, targets: Sequence[Target]
) -> ParameterSet | None:
    if compare is not None:
        compared_rule, parameter_set = resolve(compare)
        if parameter_set is None:
            raise ConfigurationError(
                f"--compare {compare!r} is not a published parameter set (see 'spikeplast rules')"
            )
        if compared_rule.kind != rule.kind:
            raise ConfigurationError(
                f"--compare {compare!r} is a {compared_rule.kind} set, the fit is {rule.kind}"
            )
        return parameter_set
    if isinstance(rule_name, str):
        _, parameter_set = resolve(rule_name)
        if parameter_set is not None:
            return parameter_set
    # a family: look for a set of the same kind, options and zero terms, fitted to these data
    authors = [t.dataset.source.split()[0].strip(",") for t in targets if t.dataset.source]
    for parameter_set in parameter_sets().values():
        candidate, _ = resolve(parameter_set.name)
        if candidate.kind != rule.kind:
            continue
        same = all(
            (getattr(candidate, f.name) == getattr(rule, f.name))
            if "choices" in f.metadata
            else (si_value(candidate, f.name) == 0) == (si_value(rule, f.name) == 0)
            for f in rule.parameter_fields()
            if f.name not in ("w_min", "w_max")
        )
        if same and any(a and a in parameter_set.source for a in authors):
            return parameter_set
    return None


def start_points(free: Sequence[FreeParameter], restarts: int, seed: int) -> list[np.ndarray]:
    """Internal start vectors: the rule's own values, then seeded random points.

    Log-scaled parameters start log-uniformly within a decade of the rule's value, linear ones
    uniformly within their bounds (all clipped to the bounds).
    """
    rng = np.random.default_rng(seed)
    first = np.array([p.to_internal(p.start) for p in free], dtype=float)
    lower = np.array([p.internal_bounds[0] for p in free], dtype=float)
    upper = np.array([p.internal_bounds[1] for p in free], dtype=float)
    points = [first]
    for _ in range(restarts - 1):
        point = np.empty(len(free))
        for i, parameter in enumerate(free):
            if parameter.scale == "log":
                point[i] = first[i] + rng.uniform(-1.0, 1.0)
            else:
                point[i] = rng.uniform(lower[i], upper[i])
        points.append(np.clip(point, lower, upper))
    return points


def _start_task(problem: FitProblem, task: tuple) -> LocalFit:
    z0, method, max_evaluations = task
    return local_fit(problem, z0, method, max_evaluations=max_evaluations)


def fit_rule(
    rule: str | Rule,
    data: Sequence[str | Path | Dataset],
    free: Sequence[str] | None = None,
    fixed: Mapping[str, Any] | None = None,
    bounds: Mapping[str, tuple[Any, Any]] | None = None,
    method: str = "trf",
    restarts: int = 8,
    seed: int = 0,
    workers: int | None = None,
    ci: str = "profile",
    level: float = 0.95,
    bootstrap_samples: int = 200,
    compare: str | None = None,
    evaluator: str = "auto",
    protocol_settings: Mapping[str, Any] | None = None,
    progress: bool = False,
    evaluator_options: Mapping[str, Any] | None = None,
    max_evaluations: int = 20000,
) -> FitResult:
    """Fit `rule`'s free parameters to `data` (see module doc).

    Parameters
    ----------
    rule
        Registry name (family or published set), TOML file, or a :class:`Rule`.
    data
        Shipped data-set names, TOML/CSV files or :class:`Dataset` objects.
    free
        Parameters to fit (field names or aliases such as ``A3+``); default:
        :func:`~spikeplast.fitting.parameters.default_free_names`.
    fixed
        Values to set and keep (strings with units, e.g. ``{"tau_x": "101 ms"}``); options
        such as ``interaction`` may be set here too.
    bounds
        ``{name: (low, high)}`` (strings with units or SI numbers) replacing default bounds.
    method
        ``trf`` (default), ``lbfgsb`` or ``nelder-mead``.
    restarts
        Number of local fits from different start points.
    seed
        Seed of the start points and bootstrap replicates (results do not depend on `workers`).
    workers
        Processes for starts, profiles and replicates (default: the CPUs available).
    ci
        ``profile`` (default), ``bootstrap`` or ``none``.
    level
        Confidence level of the intervals.
    bootstrap_samples
        Replicates for ``ci="bootstrap"``.
    compare
        Published parameter set to compare with (default: `rule` if it is one, else a set of
        the same kind and terms fitted to these data, if any).
    evaluator
        ``auto``, ``numba`` or ``brian2``.
    protocol_settings
        Protocol settings for every data set (``pairings``, ``repetitions``, ...).
    progress
        Progress bars on stderr.
    evaluator_options
        Options of the Brian2 evaluator (``backend``, ``dt_ms``).
    max_evaluations
        Evaluation budget of each local fit; a fit that exhausts it has not converged.
    """
    started = time.perf_counter()
    if method not in METHODS:
        raise ConfigurationError(f"unknown --method {method!r}; use one of {', '.join(METHODS)}")
    if ci not in CI_METHODS:
        raise ConfigurationError(f"unknown --ci {ci!r}; use one of {', '.join(CI_METHODS)}")
    if not 0 < level < 1:
        raise ConfigurationError(f"--level must be between 0 and 1, got {level}")
    if int(restarts) != restarts or restarts < 1:
        raise ConfigurationError(f"--restarts must be a positive whole number, got {restarts}")
    if int(max_evaluations) != max_evaluations or max_evaluations < 1:
        raise ConfigurationError(f"--max-evaluations must be positive, got {max_evaluations}")
    if ci == "bootstrap" and bootstrap_samples < 10:
        raise ConfigurationError("--bootstrap needs at least 10 replicates")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ConfigurationError(f"--workers must be at least 1, got {workers}")

    base = rule if isinstance(rule, Rule) else resolve(rule)[0]
    fixed_values = {canonical_name(k, base): v for k, v in dict(fixed or {}).items()}
    free_names = parse_names(free, base) if free is not None else None
    if free_names is not None:
        both = [n for n in free_names if n in fixed_values]
        if both:
            raise ParameterError(f"{', '.join(both)} is given as both free and fixed; choose one")
    try:
        start_rule = apply_fixed(base, {k: v for k, v in fixed_values.items()})
    except ParameterError as error:
        raise ParameterError(f"--fixed: {error}") from None
    if free_names is None:
        free_names = [n for n in default_free_names(start_rule) if n not in fixed_values]
    if not free_names:
        raise ConfigurationError("nothing to fit: give the free parameters with --free")
    bounds = {canonical_name(k, base): v for k, v in dict(bounds or {}).items()}
    stray = [n for n in bounds if n not in free_names]
    if stray:
        raise ConfigurationError(f"--bounds given for {', '.join(stray)}, which is not free")
    parameters = free_parameters(start_rule, free_names, bounds)

    # the rule's protocol conventions (Clopath et al.: bursts of pairings, w0 = 0.5, an AdEx
    # neuron), as `spikeplast protocol` uses them; explicit settings win
    conventions = protocol_conventions(start_rule)
    settings: dict[str, Any] = {}
    for convention_settings in conventions.get("settings", {}).values():
        settings.update(convention_settings)
    settings.update(protocol_settings or {})
    targets = load_targets(data, settings)
    conditions = all_conditions(targets)
    the_evaluator = make_evaluator(
        start_rule,
        conditions,
        free_names,
        method=evaluator,
        w0=float(conventions.get("w0", 1.0)),
        **dict(evaluator_options or {}),
    )
    problem = FitProblem(the_evaluator, parameters, targets)
    problem.model(np.array([p.to_internal(p.start) for p in parameters]))  # compile, check
    evaluations = 1
    timings = {"setup": time.perf_counter() - started}

    # -- multi-start ------------------------------------------------------------------------
    clock = time.perf_counter()
    starts = start_points(parameters, int(restarts), seed)
    fits = run_tasks(
        problem,
        _start_task,
        [(z0, method, int(max_evaluations)) for z0 in starts],
        workers,
        progress,
        f"fit ({restarts} starts)",
    )
    timings["starts"] = time.perf_counter() - clock
    evaluations += sum(f.evaluations for f in fits)
    finite = [f for f in fits if math.isfinite(f.chi2)]
    if not finite:
        raise SpikeplastError("no start produced a finite error; the fit failed")
    best = min(finite, key=lambda f: f.chi2)
    problems: list[str] = []

    # -- uncertainty -------------------------------------------------------------------------
    clock = time.perf_counter()
    profiles: list[ProfileSide] = []
    samples: np.ndarray | None = None
    threshold = chi2_threshold(level)
    for _attempt in range(3):
        if ci != "profile":
            break
        tasks = [
            (i, d, best.z, best.chi2, threshold, method)
            for i in range(problem.n_free)
            for d in (-1, +1)
        ]
        profiles = run_tasks(problem, profile_side, tasks, workers, progress, "profile likelihood")
        evaluations += sum(s.evaluations for s in profiles)
        better = [s.better for s in profiles if s.better is not None]
        if not better:
            break
        lowest = min(better, key=lambda b: b[1])
        problems.append(
            f"the profile likelihood found a lower error (χ² {lowest[1]:.6g} < {best.chi2:.6g}); "
            "refitting from there"
        )
        best = local_fit(problem, lowest[0], method)
        evaluations += best.evaluations
    else:
        problems.append(
            "the profile likelihood kept finding lower errors: the fit did not converge"
        )
        best = LocalFit(best.z, best.chi2, False, best.evaluations, "profile found lower errors")
    if ci == "bootstrap":
        tasks = [(seed, r, best.z, method) for r in range(int(bootstrap_samples))]
        replicates = run_tasks(problem, bootstrap_replicate, tasks, workers, progress, "bootstrap")
        samples = problem.si(np.array([r.z for r in replicates]))
        evaluations += sum(r.evaluations for r in replicates)
        failed = sum(1 for r in replicates if not r.converged)
        if failed:
            problems.append(f"{failed} of {len(replicates)} bootstrap refits did not converge")
    timings["uncertainty"] = time.perf_counter() - clock

    identifiability = local_identifiability(problem, best.z)
    model = problem.model(best.z)[0]
    evaluations += 2 + 2 * problem.n_free
    best_values = problem.si(best.z)
    fitted_rule = the_evaluator.rule_with(best_values)

    # -- published set ----------------------------------------------------------------------
    published = None
    parameter_set = _published_set(rule, start_rule, compare, targets)
    if parameter_set is not None:
        published_rule, _ = resolve(str(parameter_set.path or parameter_set.name))
        published_rule.validate()
        # the fast evaluator where there is one (it agrees with Brian2 to rtol 1e-9)
        published_model = make_evaluator(
            published_rule,
            conditions,
            (),
            w0=float(conventions.get("w0", 1.0)),
            **({} if published_rule.kind in FAST_RULES else dict(evaluator_options or {})),
        ).evaluate(np.zeros((1, 0)))[0]
        residuals = (published_model - problem.data) / problem.sem
        published = {
            "name": parameter_set.name,
            "source": parameter_set.source,
            "values": {n: si_value(published_rule, n) for n in free_names},
            "rule": published_rule,
            "model": published_model,
            "chi2": float(residuals @ residuals),
            "error": float(residuals @ residuals / problem.n_data),
        }

    # -- estimates and diagnostics ----------------------------------------------------------
    estimates = []
    for i, parameter in enumerate(parameters):
        estimate = ParameterEstimate(parameter, float(best_values[i]))
        estimates.append(estimate)
        if published is not None:
            estimate.published = published["values"][parameter.name]
        low, high = problem.lower[i], problem.upper[i]
        span = 1e-6 * (high - low)
        if best.z[i] <= low + span:
            estimate.notes.append("at lower bound")
        elif best.z[i] >= high - span:
            estimate.notes.append("at upper bound")
        if i in identifiability.no_effect:
            estimate.notes.append("no effect on the model")
            problems.append(
                f"{parameter.name} has no effect on the model at the fit (a term it belongs to "
                "is zero?): the data cannot constrain it"
            )
        if ci == "profile":
            _profile_interval(estimate, problem, i, profiles, best.z, problems, level)
        elif ci == "bootstrap" and samples is not None:
            _bootstrap_interval(estimate, samples[:, i], problems, level)
    for combination in identifiability.degenerate:
        if len(combination) > 1:
            names = ", ".join(parameters[i].name for i in combination)
            problems.append(f"the data cannot separate {names} (degenerate combination)")

    n_at_best = sum(1 for f in finite if f.chi2 <= best.chi2 + _SAME_MINIMUM * max(1.0, best.chi2))
    converged = best.converged
    if not best.converged:
        problems.insert(0, f"the best fit did not converge: {best.message}")
    if len(fits) > 1 and n_at_best == 1:
        problems.append(
            f"only 1 of {len(fits)} starts reached the lowest error; the minimum may not be "
            "global (try more --restarts)"
        )
    start_records = [
        {
            "start": problem.si(z0).tolist(),
            "end": problem.si(f.z).tolist(),
            "error": f.chi2 / problem.n_data,
            "converged": f.converged,
            "evaluations": f.evaluations,
            "message": f.message,
        }
        for z0, f in zip(starts, fits, strict=True)
    ]
    timings["total"] = time.perf_counter() - started
    ci_info: dict[str, Any] = {"method": ci, "level": level}
    if ci == "profile":
        ci_info["delta_chi2"] = threshold
    elif ci == "bootstrap":
        ci_info["samples"] = int(bootstrap_samples)
    ci_info["starts_at_best"] = n_at_best
    return FitResult(
        rule_name=rule if isinstance(rule, str) else rule.kind,
        rule=fitted_rule,
        start_rule=start_rule,
        fixed={k: str(v) for k, v in fixed_values.items()},
        estimates=estimates,
        targets=targets,
        model=model,
        chi2=best.chi2,
        error=best.chi2 / problem.n_data,
        converged=converged,
        problems=problems,
        starts=start_records,
        published=published,
        ci=ci_info,
        method=method,
        evaluator=the_evaluator.label,
        seed=seed,
        evaluations=evaluations,
        timings=timings,
        identifiability=identifiability,
        profiles=profiles,
        bootstrap=samples,
    )


def _profile_interval(
    estimate: ParameterEstimate,
    problem: FitProblem,
    index: int,
    profiles: Sequence[ProfileSide],
    z_best: np.ndarray,
    problems: list[str],
    level: float,
) -> None:
    parameter = estimate.parameter
    for side in (s for s in profiles if s.index == index):
        label = "below" if side.direction < 0 else "above"
        if side.crossing is not None:
            value = float(parameter.to_si(side.crossing))
            if side.direction < 0:
                estimate.lower = value
            else:
                estimate.upper = value
        else:
            bound = parameter.lower if side.direction < 0 else parameter.upper
            estimate.notes.append(f"unconstrained {label}")
            problems.append(
                f"{parameter.name} is not constrained {label} by the data: the profile stays "
                f"within the {level:.0%} threshold up to its bound {parameter.format(bound)}"
            )
        if not side.all_converged:
            problems.append(f"some refits along the profile of {parameter.name} did not converge")


def _bootstrap_interval(
    estimate: ParameterEstimate, values: np.ndarray, problems: list[str], level: float
) -> None:
    parameter = estimate.parameter
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    internal = parameter.to_internal(values)
    bound_low, bound_high = parameter.internal_bounds
    span = 1e-6 * (bound_high - bound_low)
    for label, at_bound, value in (
        ("below", np.mean(internal <= bound_low + span) >= tail, low),
        ("above", np.mean(internal >= bound_high - span) >= tail, high),
    ):
        if at_bound:
            estimate.notes.append(f"unconstrained {label}")
            problems.append(
                f"{parameter.name} is not constrained {label} by the data: at least "
                f"{tail:.1%} of the bootstrap refits end at the bound"
            )
        elif label == "below":
            estimate.lower = float(value)
        else:
            estimate.upper = float(value)
