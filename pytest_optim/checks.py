"""The check functions behind the suites. Each takes a Candidate and a regime, runs it, and
returns a ``Result`` (or raises ``CheckFailure`` with a message for a person).

The suites in ``suites/`` are tables of regimes that call these; users can call them from their
own tests too (see docs/fixtures.md).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pytest_optim import problems, tolerance
from pytest_optim.candidate import Candidate, CandidateError, CheckFailure
from pytest_optim.compare import Comparison, compare_updates, diagnose, oracle_updates
from pytest_optim.run import apply_updates, call_init, call_update, leaf_paths, replay, trajectory


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
        t = jnp.asarray(count, jnp.float32)
        warm = jnp.minimum(1.0, (t + 1) / 10.0)
        return peak * warm * 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(t, 100.0) / 100.0))

    return schedule


def _schedule_step(peak: float):
    def schedule(count):
        return peak * jnp.where(jnp.asarray(count) < 20, 1.0, 0.1)

    return schedule


SCHEDULES = {"warmup_cosine": _schedule_warmup_cosine, "step": _schedule_step}


@dataclass
class Result:
    """What a check measured, for the report (family x verdict, worst error/tolerance)."""

    family: str
    passed: bool
    worst_ratio: float | None = None
    detail: str = ""
    extra: dict = field(default_factory=dict)


@lru_cache(maxsize=None)
def grad_fn(problem_name: str, scale: float):
    p = problems.get(problem_name)
    if scale == 1.0:
        return p.grad
    base = p.grad
    return jax.jit(lambda params: jax.tree.map(lambda g: g * jnp.asarray(scale, g.dtype), base(params)))


def _mode(candidate: Candidate) -> str:
    return "scan" if candidate.traceable else "eager"


def _fail(candidate: Candidate, family: str, what: str, message: str) -> CheckFailure:
    return CheckFailure(f"[{family}] {candidate.label} (spec {candidate.reference}) — {what}\n  {message}")


def build(candidate: Candidate, lr, hp: dict, family: str, what: str):
    try:
        return candidate.make(lr, **hp)
    except CandidateError as exc:
        raise _fail(candidate, family, what, str(exc)) from None


def oracle_check(candidate: Candidate, regime: Regime, family: str = "oracle", mode: str | None = None) -> Result:
    """Trajectory of the candidate vs the float64 oracle fed the same gradients, step by step."""
    spec = candidate.spec
    problem = problems.get(regime.problem)
    base_lr = problem.lr_for(spec.name) * regime.lr_scale
    lr = SCHEDULES[regime.schedule](base_lr) if regime.schedule else base_lr
    hp = dict(regime.hp)
    what = regime.describe(base_lr)
    transform = build(candidate, lr, hp, family, what)
    try:
        traj = trajectory(candidate.label, transform, grad_fn(regime.problem, regime.grad_scale),
                          problem.params0(regime.dtype), regime.steps, lr, mode or _mode(candidate))
    except CandidateError as exc:
        raise _fail(candidate, family, what, str(exc)) from None
    full_hp = {**spec.defaults, **hp}
    expected = oracle_updates(spec, full_hp, traj.grads, traj.lrs)
    rtol = tolerance.update_rtol(spec, full_hp, regime.dtype, regime.steps)
    floor = tolerance.floor(regime.dtype)
    cmp = compare_updates(traj.updates, expected, traj.paths, rtol, floor)
    if not cmp.passed:
        cmp.diagnosis = diagnose(spec, full_hp, traj.grads, traj.lrs, traj.updates, traj.paths, rtol, floor)
        raise _fail(candidate, family, what, cmp.describe("the float64 oracle"))
    return Result(family, True, cmp.worst_ratio, cmp.describe())


def optax_check(candidate: Candidate, regime: Regime) -> Result:
    """Candidate vs optax's implementation of the same spec, fed the same gradients."""
    spec = candidate.spec
    problem = problems.get(regime.problem)
    lr = problem.lr_for(spec.name)
    hp = dict(regime.hp)
    what = regime.describe(lr) + ("" if spec.optax_exact else f" [approximate: {spec.optax_note}]")
    transform = build(candidate, lr, hp, "optax", what)
    try:
        traj = trajectory(candidate.label, transform, grad_fn(regime.problem, regime.grad_scale),
                          problem.params0(regime.dtype), regime.steps, lr, _mode(candidate))
    except CandidateError as exc:
        raise _fail(candidate, "optax", what, str(exc)) from None
    reference = spec.optax_reference(lr, **hp)
    params0 = problem.params0(regime.dtype)
    grads_seq = [jax.tree.unflatten(jax.tree.structure(params0),
                                    [jnp.asarray(x, regime.dtype) for x in g]) for g in traj.grads]
    expected, _ = replay_scan(reference, grads_seq, params0)
    full_hp = {**spec.defaults, **hp}
    # Two implementations, each within rtol of the exact rule, differ by at most 2 rtol.
    rtol = 2 * tolerance.update_rtol(spec, full_hp, regime.dtype, regime.steps)
    cmp = compare_updates(traj.updates, expected, traj.paths, rtol, tolerance.floor(regime.dtype))
    if not cmp.passed:
        raise _fail(candidate, "optax", what, cmp.describe(spec.optax_call))
    return Result("optax", True, cmp.worst_ratio, cmp.describe(), {"exact": spec.optax_exact})


def replay_scan(transform, grads_seq, params0):
    """Feed a gradient sequence to a traceable transform inside one lax.scan."""
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *grads_seq)

    def body(carry, g):
        params, state = carry
        u, state = transform.update(g, state, params)
        return (apply_updates(params, u), state), u

    (_, state), ups = jax.jit(lambda p, s, gs: jax.lax.scan(body, (p, s), gs))(
        params0, transform.init(params0), stacked)
    n = len(grads_seq)
    return [[np.asarray(x[t], np.float64) for x in jax.tree.leaves(ups)] for t in range(n)], state
