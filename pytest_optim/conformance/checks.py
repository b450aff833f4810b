"""The check functions behind the suites. Each takes a Candidate and a regime, runs it, and
returns a ``Result`` (or raises ``CheckFailure`` with a message for a person).

The suites in ``suites/`` are tables of regimes that call these; users can call them from their
own tests too (see docs/third-party.md).
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pytest_optim import seeding

from pytest_optim.conformance import problems

from pytest_optim.conformance import tolerance
from pytest_optim.outcomes import CandidateError, CheckFailure, NotApplicable
from pytest_optim.specs.oracle import reports_allowances
from pytest_optim.candidates.selection import Candidate
from pytest_optim.conformance.capabilities import NotSupported, cause
from pytest_optim.conformance.compare import BelowResolution, diagnose, judge, oracle_updates, with_allowances
from pytest_optim.conformance.runner import (call_init, call_update, leaf_paths, replay_run,
                                             replay_scan, trajectory)


@dataclass(frozen=True)
class Regime:
    """One row of a check table: problem x dtype x hyperparameters x steps."""

    problem: str
    dtype: str = "float32"
    steps: int = 200
    hp: tuple[tuple[str, Any], ...] = ()  # hyperparameter overrides
    grad_scale: float = 1.0  # e.g. 1e-6 for the tiny-gradient regime
    schedule: str | None = None  # name of a learning-rate schedule, see SCHEDULES
    lr_scale: float = 1.0

    @property
    def id(self) -> str:
        parts = [self.problem, self.dtype, f"{self.steps}steps"]
        parts += [f"{k}={v:g}" for k, v in self.hp]
        if self.grad_scale != 1.0:
            parts.append(f"grad_x{self.grad_scale:g}")
        if self.schedule:
            parts.append(f"schedule={self.schedule}")
        return "-".join(parts)

    def describe(self, lr) -> str:
        hp = ", ".join(f"{k}={v:g}" for k, v in self.hp) or "defaults"
        extra = f", gradients x{self.grad_scale:g}" if self.grad_scale != 1.0 else ""
        sched = f", lr schedule {self.schedule}" if self.schedule else ""
        return f"problem {self.problem}, {self.dtype}, {self.steps} steps, lr={lr:g}{sched}, {hp}{extra}"


def _schedule_warmup_cosine(peak: float):
    def schedule(count):
        t = jnp.asarray(count).astype(float)  # float64 under x64, so the oracle sees the same lr
        warm = jnp.minimum(1.0, (t + 1) / 10.0)
        return peak * warm * 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(t, 100.0) / 100.0))

    return schedule


def _schedule_step(peak: float):
    def schedule(count):
        return peak * jnp.where(jnp.asarray(count) < 20, 1.0, 0.1)

    return schedule


def _schedule_exp_decay(peak: float):
    def schedule(count):
        return peak * 0.995 ** jnp.asarray(count).astype(float)

    return schedule


SCHEDULES = {"warmup_cosine": _schedule_warmup_cosine, "step": _schedule_step, "exp_decay": _schedule_exp_decay}


@dataclass
class Result:
    """What a check measured, for the report (family x verdict, worst error/tolerance)."""

    family: str
    passed: bool
    worst_ratio: float | None = None
    detail: str = ""
    extra: dict = field(default_factory=dict)


@seeding.per_seed_cache
def grad_fn(problem_name: str, scale: float):
    p = problems.get(problem_name)
    if scale == 1.0:
        return p.grad
    base = p.grad
    return jax.jit(lambda params: jax.tree.map(lambda g: g * jnp.asarray(scale, g.dtype), base(params)))


def _mode(candidate: Candidate) -> str:
    return "scan" if candidate.traceable else "eager"


def failure(candidate: Candidate, family: str, what: str, message: str) -> CheckFailure:
    """The one failure text of every check: ``[family] label (spec NAME) — what was run``, then why."""
    against = "reference" if candidate.spec.compared_with else "spec"
    return CheckFailure(f"[{family}] {candidate.label} ({against} {candidate.reference}) — {what}\n  {message}")


@contextmanager
def reported(candidate: Candidate, family: str, what: str):
    """The one handling of a misbehaving candidate: whatever it did (raised, returned the wrong tree,
    shape or dtype, drifted its state; a CandidateError from the runner) becomes this check's
    failure, one sentence under the check's own heading, never a traceback from the harness."""
    try:
        yield
    except CandidateError as exc:
        raise failure(candidate, family, what, str(exc)) from None


def build(candidate: Candidate, lr, hp: dict, family: str, what: str):
    with reported(candidate, family, what):
        return candidate.make(lr, **hp)


def judged(candidate: Candidate, family: str, what: str, got, expected, paths, rtol: float, floor: float,
           resolution=None, against: str | None = None, diagnose_with=None):
    """The one verdict of every comparison: pass, n/a (updates below the parameters' resolution),
    or a failure naming the first divergence and, with ``diagnose_with=(spec, hp, grads, lrs, params)``,
    the known convention the candidate follows instead (only when it distinguishes).

    ``against`` names the expected side; by default the spec's oracle: the float64 rule, or in a
    port run the reference implementation (in float64), whose updates, when it is seen only
    through its own float64 parameters, carry that rounding too (``tolerance.with_reference``)."""
    spec = candidate.spec
    if against is None:
        against = f"the reference {spec.compared_with} (run in float64)" if spec.compared_with else "the float64 oracle"
        resolution = tolerance.with_reference(spec, resolution, floor)
    try:
        cmp = judge(got, expected, paths, rtol, floor, resolution)
    except BelowResolution as exc:
        raise NotApplicable(str(exc)) from None
    if not cmp.passed:
        if diagnose_with is not None:
            spec, hp, grads, lrs, params = diagnose_with
            cmp.diagnosis = diagnose(spec, hp, grads, lrs, got, paths, rtol, floor, resolution, canonical=expected,
                                     params=params)
            cmp.diagnosed = True
        raise failure(candidate, family, what, cmp.describe(against))
    return cmp


def port_run(spec, what: str) -> str:
    """Why a check of the paper's spec is n/a when the oracle is another implementation."""
    return (f"port run: the candidate is compared with the reference {spec.compared_with}, which has no {what} "
            "of its own (that belongs to a spec); the oracle, hyperparameter, schedule and property checks apply")


def refused(candidate: Candidate, capability: str, phrase: str, exc: BaseException, baseline) -> NotSupported | None:
    """``NotSupported`` when the candidate raised with an optional input (``exc``) while ``baseline``,
    the same call without it, works; None when the baseline fails too (then it is a plain failure)."""
    try:
        baseline()
    except Exception:  # noqa: BLE001 - the baseline's own failure is reported by the caller
        return None
    return NotSupported(capability, f"{phrase} raised {cause(exc)}")


def oracle_check(candidate: Candidate, regime: Regime, family: str = "oracle", mode: str | None = None) -> Result:
    """Trajectory of the candidate vs the float64 oracle fed the same gradients, step by step."""
    spec = candidate.spec
    problem = problems.get(regime.problem)
    lr0 = base_lr(candidate, problem.lr_for(spec)) * regime.lr_scale
    lr = SCHEDULES[regime.schedule](lr0) if regime.schedule else lr0
    hp = dict(regime.hp)
    what = regime.describe(lr0)
    run = lambda lr_, steps: trajectory(  # noqa: E731
        candidate.label, candidate.make(lr_, **hp), grad_fn(regime.problem, regime.grad_scale),
        problem.params0(regime.dtype), steps, lr_, mode or _mode(candidate))
    try:
        traj = run(lr, regime.steps)
    except CandidateError as exc:
        if regime.schedule:  # a candidate that takes a constant learning rate only: not supported
            stage = "building it" if exc.stage == "build" else "its update"
            unsupported = refused(candidate, "schedules",
                                  f"takes no learning-rate schedule: {stage} with learning_rate=<schedule>",
                                  exc, lambda: run(lr0, 2))
            if unsupported is not None:
                raise unsupported from None
        raise failure(candidate, family, what, str(exc)) from None
    full_hp = {**spec.defaults, **hp}
    expected = oracle_updates(spec, full_hp, traj.grads, traj.lrs, params=traj.params_before)
    rtol = tolerance.update_rtol(spec, full_hp, regime.dtype, regime.steps)
    floor = tolerance.floor(regime.dtype)
    try:
        canonical = judge(traj.updates, expected, traj.paths, rtol, floor, traj.resolution)
    except BelowResolution as exc:
        raise NotApplicable(str(exc)) from None
    if not canonical.passed and regime.schedule:
        for alt in spec.schedule_equivalents:  # same rule at constant lr, another convention under schedules
            alt_expected = oracle_updates(spec, full_hp, traj.grads, traj.lrs, alt.variant, traj.params_before)
            alt_cmp = compare_or_none(traj.updates, alt_expected, traj.paths, rtol, floor, traj.resolution)
            if alt_cmp is not None and alt_cmp.passed:
                return Result(family, True, alt_cmp.worst_ratio,
                              f"matches {alt.label} [{alt.key}] ({alt.seen_in}): the canonical rule at a constant "
                              "learning rate, another convention under schedules",
                              {"convention": alt.key, "note": f"schedules follow {alt.label} [{alt.key}]"})
    cmp = judged(candidate, family, what, traj.updates, expected, traj.paths, rtol, floor, traj.resolution,
                 diagnose_with=(spec, full_hp, traj.grads, traj.lrs, traj.params_before))
    return Result(family, True, cmp.worst_ratio, cmp.describe())


def compare_or_none(got, expected, paths, rtol, floor, resolution):
    try:
        return judge(got, expected, paths, rtol, floor, resolution)
    except BelowResolution:
        return None


def optax_check(candidate: Candidate, regime: Regime) -> Result:
    """Candidate vs optax's implementation of the same spec, fed the same gradients.

    Where optax's function is only an approximate reference (``spec.optax_exact`` is False), both
    run at ``spec.optax_exact_at``, the hyperparameters at which the two conventions are one rule.
    """
    spec = candidate.spec
    if spec.optax_builder is None:
        raise NotApplicable(port_run(spec, "optax"))
    if not spec.optax_exact:
        regime = replace(regime, hp=tuple({**dict(regime.hp), **spec.optax_exact_at}.items()))
    problem = problems.get(regime.problem)
    lr = base_lr(candidate, problem.lr_for(spec))
    hp = dict(regime.hp)
    what = regime.describe(lr) + ("" if spec.optax_exact else f" [approximate: {spec.optax_note}]")
    transform = build(candidate, lr, hp, "optax", what)
    with reported(candidate, "optax", what):
        traj = trajectory(candidate.label, transform, grad_fn(regime.problem, regime.grad_scale),
                          problem.params0(regime.dtype), regime.steps, lr, _mode(candidate))
    reference = spec.optax_reference(lr, **hp)
    params0 = problem.params0(regime.dtype)
    grads_seq = [jax.tree.unflatten(jax.tree.structure(params0),
                                    [jnp.asarray(x, regime.dtype) for x in g]) for g in traj.grads]
    expected, _ = replay_scan(reference, grads_seq, params0)
    full_hp = {**spec.defaults, **hp}
    if reports_allowances(spec):  # optax rounds a sign argument near zero, or a cancelling norm, differently too
        expected = with_allowances(expected, oracle_updates(spec, full_hp, traj.grads, traj.lrs,
                                                            params=traj.params_before))
    # Two implementations, each within rtol of the exact rule, differ by at most 2 rtol.
    rtol = 2 * tolerance.update_rtol(spec, full_hp, regime.dtype, regime.steps)
    cmp = judged(candidate, "optax", what, traj.updates, expected, traj.paths, rtol, tolerance.floor(regime.dtype),
                 traj.resolution, against=spec.optax_call)
    return Result("optax", True, cmp.worst_ratio, cmp.describe(), {"exact": spec.optax_exact})


# -- learning rate of a ready-made transform -----------------------------------------------------


def base_lr(candidate: Candidate, problem_lr: float) -> float:
    """The problem's learning rate, or a ready-made transform's own (inferred once)."""
    if candidate.is_factory:
        return problem_lr
    if candidate.fixed_lr is None:
        candidate.fixed_lr = infer_lr(candidate)
    return candidate.fixed_lr


def infer_lr(candidate: Candidate) -> float:
    """Every spec's first update is -lr * f(g) with f known in closed form: lr = -u1 / f(g1)."""
    g1 = np.array([0.5, -2.0, 3.0])
    transform = candidate.instance
    params = jnp.zeros(3, jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    with reported(candidate, "setup", "inferring the learning rate from the first step"):
        state = call_init(candidate.label, transform, params)
        u, _ = call_update(candidate.label, transform, jnp.asarray(g1, params.dtype), state, params, 1)
    if candidate.spec.first_two_updates is None:
        raise failure(candidate, "setup", "inferring the learning rate from the first step",
                      f"a ready-made transform's learning rate is read from the closed form of a spec's first step, "
                      f"and {candidate.spec.name} has none: pass a factory taking learning_rate instead")
    f, _ = candidate.spec.first_two_updates(candidate.spec.defaults, 1.0, g1, g1)
    return float(np.median(np.asarray(u, np.float64) / f))


# -- analytic ------------------------------------------------------------------------------------


def closed_form_check(candidate: Candidate, problem_name: str, dtype: str, steps: int, optimal: bool = False) -> Result:
    """GD / heavy-ball / Nesterov iterates on a quadratic against their closed forms."""
    from pytest_optim.conformance.analytic import closed_form_iterates, optimal_parameters, rate_bound, spectral_rate

    spec = candidate.spec
    problem = problems.get(problem_name)
    eigs, q = problem.extra["eigenvalues"], problem.extra["Q"]
    if optimal:
        lr, mom, textbook = optimal_parameters(spec.name, problem.mu, problem.L)
        hp = {"momentum": float(mom)} if "momentum" in spec.defaults else {}
    else:
        lr, hp, textbook = base_lr(candidate, problem.lr_for(spec)), {}, None
    mom = {**spec.defaults, **hp}.get("momentum", 0.0)
    what = f"{'rate at the optimal tuning, ' if optimal else ''}problem {problem_name}, {dtype}, {steps} steps, lr={lr:.6g}" + (
        f", momentum={mom:.6g}" if mom else "")
    transform = build(candidate, lr, hp, "analytic", what)
    with reported(candidate, "analytic", what):
        traj = trajectory(candidate.label, transform, grad_fn(problem_name, 1.0), problem.params0(dtype), steps, lr,
                          _mode(candidate))
    # the candidate's iterates, re-accumulated exactly as apply_updates does, in the run's dtype
    x = np.asarray(problems.flatten(problem.params0(dtype)))
    iterates = []
    for u in traj.updates:
        x = (x + np.concatenate([np.ravel(a) for a in u]).astype(x.dtype)).astype(x.dtype)
        iterates.append(np.asarray(x, np.float64))
    iterates = np.array(iterates)
    exact = closed_form_iterates(spec.name, eigs, q, problem.x0, problem.minimizer, lr, mom, steps)
    radius, growth = spectral_rate(spec.name, eigs, lr, mom)
    # Each step rounds A x (n products and sums) and a few more operations: (n + 4) u |x| per
    # step; the iteration matrix carries an old error forward amplified at most `growth`.
    n = len(problem.x0)
    u = tolerance.unit_roundoff(dtype)
    scale = max(np.abs(problem.x0).max(), np.abs(problem.minimizer).max(), 1.0)
    tol = steps * growth * (n + 4) * u * scale * (1 + lr * problem.L)
    err = np.abs(iterates - exact).max(axis=1)
    worst = float(err.max() / tol)
    if not err.max() <= tol:
        k = int(np.argmax(err > tol))
        raise failure(candidate, "analytic", what,
                      f"iterate {k + 1} is {err[k]:.3g} away from the closed form (tolerance {tol:.3g})")
    detail = f"max |x_k - closed form| = {err.max():.3g} (tol {tol:.3g})"
    if optimal:
        dist = np.linalg.norm(iterates - problem.minimizer, axis=1)
        d0 = np.linalg.norm(problem.x0 - problem.minimizer)
        measured = float((dist[-1] / d0) ** (1 / steps))
        # eigvals of a defective 2x2 (the double root at the optimal tuning) are accurate to
        # about sqrt(u) = 1.5e-8 only, so the theory comparison allows 1e-6 relative.
        if textbook is not None and radius > textbook * (1 + 1e-6):
            raise failure(candidate, "analytic", what, f"theory check: spectral radius {radius} > textbook rate {textbook}")
        # the rate bound: ||x_k - x*|| <= max_lambda |(M_lambda^k)_00| ||x0 - x*||, plus rounding
        bound = rate_bound(spec.name, eigs, lr, mom, steps) * d0 + tol
        if np.any(dist > bound):
            k = int(np.argmax(dist > bound))
            raise failure(candidate, "analytic", what,
                          f"distance to x* at step {k + 1} is {dist[k]:.3g}, above the rate bound {bound[k]:.3g} "
                          f"(spectral radius {radius:.4f}, textbook {textbook:.4f})")
        detail += f"; measured rate {measured:.4f} <= theory {radius:.4f} (textbook {textbook:.4f})"
    return Result("analytic", True, worst, detail)


def first_steps_check(candidate: Candidate, dtype: str) -> Result:
    """The first two updates against the hand-derived closed forms, on a nested tree."""
    spec = candidate.spec
    if spec.first_two_updates is None:
        raise NotApplicable(port_run(spec, "the closed form of the first two steps"))
    rng = seeding.rng(7)
    # magnitudes from 1e-3 to 10, both signs, so eps and normalisation matter
    g1 = rng.choice([-1.0, 1.0], 7) * np.geomspace(1e-3, 10, 7)
    g2 = rng.standard_normal(7) * 3
    layout = {"a": (2, 2), "b": ((2,), [()])}
    lr = base_lr(candidate, 0.1)
    what = f"first two steps, {dtype}, lr={lr:g}, defaults"
    transform = build(candidate, lr, {}, "analytic", what)
    as_tree = lambda v: jax.tree.map(lambda x: jnp.asarray(x, dtype), problems.unflatten(layout, v))  # noqa: E731
    g1d = np.asarray(np.asarray(g1, dtype), np.float64)
    g2d = np.asarray(np.asarray(g2, dtype), np.float64)
    with reported(candidate, "analytic", what):
        run = replay_run(candidate.label, transform, [as_tree(g1), as_tree(g2)], as_tree(np.zeros(7)))
    paths = leaf_paths(as_tree(np.zeros(7)))
    leaves = lambda v: [np.ravel(x) for x in jax.tree.leaves(problems.unflatten(layout, v))]  # noqa: E731
    # rules with weight decay read the parameters before each step (the candidate's own, in float64)
    # and rules that look at a leaf as a whole (a trust ratio, a matrix) the sizes or shapes of the leaves
    known = inspect.signature(spec.first_two_updates).parameters
    flat = lambda tree: np.concatenate([np.ravel(np.asarray(x, np.float64)) for x in tree])  # noqa: E731
    kw = {k: v() for k, v in (("p1", lambda: flat(run.params_before[0])), ("p2", lambda: flat(run.params_before[1])),
                              ("sizes", lambda: [int(np.size(x)) for x in jax.tree.leaves(as_tree(np.zeros(7)))]),
                              ("shapes", lambda: [np.shape(x) for x in jax.tree.leaves(as_tree(np.zeros(7)))]))
          if k in known}
    e1, e2 = spec.first_two_updates(spec.defaults, lr, g1d, g2d, **kw)
    expected = [leaves(e) for e in (e1, e2)]
    got = [[np.ravel(x) for x in step] for step in run.updates]
    resolution = [[np.ravel(x) for x in step] for step in run.resolution]
    rtol = tolerance.update_rtol(spec, spec.defaults, dtype, 2)
    cmp = judged(candidate, "analytic", what, got, expected, paths, rtol, tolerance.floor(dtype), resolution,
                 against="the closed form", diagnose_with=(spec, spec.defaults, [leaves(g1d), leaves(g2d)], [lr, lr],
                                                                 [[np.ravel(x) for x in p] for p in run.params_before]))
    return Result("analytic", True, cmp.worst_ratio, cmp.describe())


_RULE_ENDPOINTS: dict = {}


def _rule_endpoint(spec, hp: tuple, problem_name: str, lrs: tuple) -> np.ndarray:
    """The rule's own float64 trajectory's end, computed by the oracle with exact float64 gradients.

    It depends on the spec and the setting only, not on the candidate: kept for the session, so
    the candidates of one spec (a port and its original, the mutation score) share it."""
    key = (seeding.seed(), spec.name, id(spec), hp, problem_name, lrs)  # the problem's data depend on the seed
    if key not in _RULE_ENDPOINTS:
        problem = problems.get(problem_name)
        oracle = spec.oracle_for(dict(hp))
        p = problem.params0("float64")
        treedef = jax.tree.structure(p)
        oracle.init(jax.tree.leaves(p))
        for lr in lrs:
            leaves = [np.asarray(x) for x in jax.tree.leaves(p)]
            g = [np.asarray(x) for x in jax.tree.leaves(problem.grad(p))]
            p = jax.tree.unflatten(treedef, [a + b for a, b in zip(leaves, oracle.step(g, lr, leaves))])
        _RULE_ENDPOINTS[key] = np.asarray(problems.flatten(p), np.float64)
    return _RULE_ENDPOINTS[key]


def convergence_check(candidate: Candidate, problem_name: str, steps: int) -> Result:
    """Runs to the exact minimizer: as close as the float64 rule itself gets, up to rounding.

    The learning rate is the problem's times ``spec.tuning.convergence_lr_scale``, and
    ``spec.tuning.convergence_eps_per_lr_l`` (when set) fixes eps as below.

    ``eps_per_lr_l`` sets eps = eps_per_lr_l * lr * L, for rules (RMSprop) that at a constant
    learning rate end in a limit cycle of size ~lr: with eps >= lr L the step lr g / (sqrt(r) + eps)
    is at most the gradient step g / L, and near x* (sqrt(r) << eps) it *is* gradient descent with
    step lr / eps <= 1/L, which converges linearly at rate 1 - mu/L. A constant learning rate
    keeps this check of the mathematics free of the optional schedule capability.
    """
    spec = candidate.spec
    if spec.tuning.convergence_na:
        raise NotApplicable(spec.tuning.convergence_na)
    lr_scale, eps_per_lr_l = spec.tuning.convergence_lr_scale, spec.tuning.convergence_eps_per_lr_l
    problem = problems.get(problem_name)
    lr = base_lr(candidate, problem.lr_for(spec) * lr_scale)
    hp = {"eps": eps_per_lr_l * lr * problem.L} if eps_per_lr_l else {}
    what = f"convergence on {problem_name}, float64, {steps} steps, lr={lr:g}" + (
        f", eps={hp['eps']:.3g} (= lr L)" if hp else "")
    transform = build(candidate, lr, hp, "convergence", what)
    with reported(candidate, "convergence", what):
        traj = trajectory(candidate.label, transform, grad_fn(problem_name, 1.0), problem.params0("float64"), steps, lr,
                          _mode(candidate))
    x_c = np.asarray(problems.flatten(traj.params), np.float64)
    x_o = _rule_endpoint(spec, tuple(sorted(hp.items())), problem_name, tuple(traj.lrs))
    d0 = np.linalg.norm(problem.x0 - problem.minimizer)
    d_o = np.linalg.norm(x_o - problem.minimizer)
    d_c = np.linalg.norm(x_c - problem.minimizer)
    kappa = (problem.L / problem.mu) if problem.mu else 1.0
    # Attainable accuracy in float64 on a problem of condition kappa: kappa * n * u * |x*|.
    floor_ = kappa * len(problem.x0) * tolerance.unit_roundoff("float64") * max(np.abs(problem.minimizer).max(), 1.0)
    if not d_o <= 1e-3 * d0:
        raise failure(candidate, "convergence", what,
                      f"setup error: the float64 rule itself only reaches {d_o:.3g} from x* (start {d0:.3g})")
    limit = 2 * d_o + floor_
    if not d_c <= limit:
        raise failure(candidate, "convergence", what,
                      f"ends {d_c:.3g} from the exact minimizer; the rule reaches {d_o:.3g} (limit {limit:.3g})")
    return Result("convergence", True, float(d_c / limit), f"|x - x*| = {d_c:.3g} (rule: {d_o:.3g}, start {d0:.3g})")
