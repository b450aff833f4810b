"""Running a candidate: trajectories on a problem (scan or eager), with the candidate's output
checked as it comes (exceptions, tree structure, shapes, dtypes) so misbehaviour is reported
as one clear sentence instead of a traceback from deep inside JAX.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from pytest_optim.outcomes import CandidateError


@dataclass
class Trajectory:
    grads: list[list[np.ndarray]]  # per step, the gradient leaves the candidate saw
    updates: list[list[np.ndarray]]  # per step, the candidate's update leaves
    params: Any  # final parameters
    state: Any  # final state
    paths: list[str]  # leaf paths, e.g. "['dense']['kernel']"
    lrs: list[float]  # learning rate used at each step (schedules evaluated)
    resolution: list[list[np.ndarray]] | None = None  # per step, u |p| of each leaf (see compare.judge)
    mode: str = "scan"  # how it ran: "scan", or "eager" (asked for, or the candidate does not trace)
    params_before: list[list[np.ndarray]] | None = None  # per step, the parameter leaves the update is added to


# In-place writes of the parameter per step allowed for: one for most rules, two where an
# implementation adds its step as two terms (torch.optim.NAdam's two addcdiv_ calls, decoupled
# weight decay written before the step). An exactly observed update never needs this term.
PARAMETER_WRITES = 2


def resolution(params_seq: list, dtypes: list) -> list[list[np.ndarray]]:
    """Per step, the rounding of each parameter the update is added to: k u max(|p_t|, |p_t+1|).

    ``params_seq`` holds the parameter leaves (float64) before every step and after the last one;
    u is the unit roundoff of each leaf's own dtype. Writing p_t+1 = fl(p_t + d) rounds by at most
    u |p_t+1| (round to nearest), so an update observed as p_t+1 - p_t is the candidate's d up to
    that much per write, k = PARAMETER_WRITES writes a step; the max over both ends covers an
    update that shrinks or grows p (an intermediate value lies between them up to its own term).
    """
    from pytest_optim.conformance.tolerance import unit_roundoff

    us = [PARAMETER_WRITES * unit_roundoff(d) for d in dtypes]
    return [[u * np.maximum(np.abs(a), np.abs(b)) for u, a, b in zip(us, before, after)]
            for before, after in zip(params_seq[:-1], params_seq[1:])]


def leaf_dtypes(tree) -> list[str]:
    return [str(jnp.result_type(x)) for x in jax.tree.leaves(tree)]


def leaf_paths(tree) -> list[str]:
    return [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def lr_values(learning_rate, steps: int) -> list[float]:
    if callable(learning_rate):
        return [float(learning_rate(jnp.asarray(t, jnp.int32))) for t in range(steps)]
    return [float(learning_rate)] * steps


def call_init(label: str, transform, params):
    try:
        return transform.init(params)
    except Exception as exc:  # noqa: BLE001
        raise CandidateError(f"{label}: init(params) raised {type(exc).__name__}: {exc}") from exc


def call_update(label: str, transform, grads, state, params, step: int, consume: bool = False):
    """``transform.update`` with its output checked. ``consume``: the caller never passes ``state``
    again, so an adapter whose state is a live object (``update_consuming``) may step it in place."""
    update = (getattr(transform, "update_consuming", None) if consume else None) or transform.update
    try:
        out = update(grads, state, params)
    except Exception as exc:  # noqa: BLE001
        raise CandidateError(
            f"{label}: update(grads, state, params) raised {type(exc).__name__} at step {step}: {exc}"
        ) from exc
    if not (isinstance(out, tuple) and len(out) == 2):
        raise CandidateError(
            f"{label}: update must return (updates, new_state); got {type(out).__name__} at step {step}"
        )
    check_updates(label, grads, out[0], step)
    return out


def check_updates(label: str, grads, updates, step: int) -> None:
    """Updates must mirror the gradients: same tree structure, shapes and dtypes."""
    g_def, u_def = jax.tree.structure(grads), jax.tree.structure(updates)
    if g_def != u_def:
        raise CandidateError(
            f"{label}: updates have the wrong tree structure at step {step}: expected {g_def}, got {u_def}"
        )
    for i, (g, u) in enumerate(zip(jax.tree.leaves(grads), jax.tree.leaves(updates))):
        if jnp.shape(u) == jnp.shape(g) and jnp.result_type(u) == jnp.result_type(g):
            continue  # the common case, checked without building the leaf paths every step
        path = leaf_paths(grads)[i]
        if jnp.shape(u) != jnp.shape(g):
            raise CandidateError(
                f"{label}: update leaf {path} has shape {jnp.shape(u)}, expected {jnp.shape(g)} (step {step})"
            )
        if jnp.result_type(u) != jnp.result_type(g):
            raise CandidateError(
                f"{label}: update leaf {path} has dtype {jnp.result_type(u)} but the gradient is "
                f"{jnp.result_type(g)} (step {step}): updates must keep each leaf's dtype"
            )


def apply_updates(params, updates):
    return jax.tree.map(lambda p, u: (p + u).astype(p.dtype), params, updates)


# The eager loops' p + u: one compiled call per step instead of one dispatched op per leaf.
_apply_eagerly = jax.jit(apply_updates)


def _to_numpy(tree) -> list[np.ndarray]:
    return [np.asarray(x, dtype=np.float64) for x in jax.tree.leaves(tree)]


def _per_step(stacked, steps: int) -> list[list[np.ndarray]]:
    """A scan's stacked leaves (step axis first) as per-step lists of float64 leaves."""
    leaves = _to_numpy(stacked)
    return [[x[t] for x in leaves] for t in range(steps)]


def trajectory(
    label: str,
    transform,
    grad_fn: Callable,
    params0,
    steps: int,
    learning_rate=None,
    mode: str = "scan",
    fallback: bool = True,
) -> Trajectory:
    """Run ``steps`` optimizer steps on ``grad_fn`` from ``params0``.

    ``mode="scan"`` compiles the whole trajectory as one ``lax.scan`` (fast); a candidate whose
    update cannot be traced runs eagerly instead (``fallback``), because no check of the
    mathematics may depend on tracing, an optional capability (the tracing checks report it).
    ``mode="eager"`` calls ``update`` from Python each step (any candidate, NumPy-style included).
    """
    state0 = call_init(label, transform, params0)
    paths = leaf_paths(params0)
    if mode == "scan":
        try:
            grads, updates, params_seq, params, state = _scan(label, transform, grad_fn, params0, state0, steps)
        except NotTraceable:
            if not fallback:
                raise
            mode = "eager"
            state0 = call_init(label, transform, params0)
        else:
            # One device-to-host copy per leaf, then NumPy slicing: indexing the jax arrays step by
            # step would dispatch one jax op per step and leaf (most of a check's time).
            grads, updates, params_seq = (_per_step(tree, steps) for tree in (grads, updates, params_seq))
            params_seq.append(_to_numpy(params))
    if mode != "scan":
        params, state = params0, state0
        grads, updates, params_seq = [], [], [_to_numpy(params0)]
        for t in range(steps):
            g = grad_fn(params)
            u, state = call_update(label, transform, g, state, params, t + 1, consume=True)
            grads.append(_to_numpy(g))
            updates.append(_to_numpy(u))
            params = _apply_eagerly(params, u)
            params_seq.append(_to_numpy(params))
    lrs = lr_values(learning_rate, steps) if learning_rate is not None else [float("nan")] * steps
    return Trajectory(grads, updates, params, state, paths, lrs, resolution(params_seq, leaf_dtypes(params0)), mode,
                      params_seq[:-1])


class NotTraceable(CandidateError):
    """The candidate's update cannot be traced by JAX (it may still run eagerly)."""


def _scan(label, transform, grad_fn, params0, state0, steps):
    # One abstract step first: a wrong tree, shape or dtype is reported before anything runs.
    try:
        out = jax.eval_shape(transform.update, grad_fn(params0), state0, params0)
    except Exception as exc:  # noqa: BLE001
        raise NotTraceable(
            f"{label}: update cannot be traced by jax (needed for jit/scan): {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(out, tuple) and len(out) == 2):
        raise CandidateError(f"{label}: update must return (updates, new_state); got {type(out).__name__}")
    check_updates(label, jax.eval_shape(grad_fn, params0), out[0], 1)
    s_in, s_out = jax.tree.structure(state0), jax.tree.structure(out[1])
    if s_in != s_out:
        raise CandidateError(f"{label}: the state changes structure after one update: {s_in} -> {s_out}")
    for a, b in zip(jax.tree.leaves(jax.eval_shape(lambda s: s, state0)), jax.tree.leaves(out[1])):
        if a.dtype != b.dtype or a.shape != b.shape:
            raise CandidateError(
                f"{label}: a state leaf changes from {a.dtype}{list(a.shape)} to {b.dtype}{list(b.shape)} "
                "after one update; the state must keep its dtypes and shapes (dtype drift)"
            )

    def body(carry, _):
        params, state = carry
        g = grad_fn(params)
        u, state = transform.update(g, state, params)
        return (apply_updates(params, u), state), (g, u, params)

    try:
        (params, state), (grads, updates, params_seq) = jax.jit(
            lambda p, s: jax.lax.scan(body, (p, s), None, length=steps)
        )(params0, state0)
    except Exception as exc:  # noqa: BLE001
        raise NotTraceable(f"{label}: running update inside lax.scan failed: {type(exc).__name__}: {exc}") from exc
    return grads, updates, params_seq, params, state


@dataclass
class Replay:
    updates: list[list[np.ndarray]]  # per step, the update leaves (float64)
    state: Any  # final state
    resolution: list[list[np.ndarray]]  # per step, u |p| of each leaf (see compare.judge)
    params_before: list[list[np.ndarray]]  # per step, the parameter leaves the update is added to


def replay_run(label: str, transform, grads_seq: list, params0) -> Replay:
    """Feed a fixed sequence of gradient pytrees eagerly, recording what the parameters see."""
    state = call_init(label, transform, params0)
    params = params0
    out, params_seq = [], [_to_numpy(params0)]
    for t, g in enumerate(grads_seq):
        u, state = call_update(label, transform, g, state, params, t + 1, consume=True)
        out.append(_to_numpy(u))
        params = _apply_eagerly(params, u)
        params_seq.append(_to_numpy(params))
    return Replay(out, state, resolution(params_seq, leaf_dtypes(params0)), params_seq[:-1])


def replay(label: str, transform, grads_seq: list, params0):
    """Feed a fixed sequence of gradient pytrees; returns the list of update pytrees (as NumPy)."""
    run = replay_run(label, transform, grads_seq, params0)
    return run.updates, run.state


def replay_scan(transform, grads_seq, params0):
    """Feed a gradient sequence to a traceable transform inside one lax.scan."""
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *grads_seq)

    def body(carry, g):
        params, state = carry
        u, state = transform.update(g, state, params)
        return (apply_updates(params, u), state), u

    (_, state), ups = jax.jit(lambda p, s, gs: jax.lax.scan(body, (p, s), gs))(
        params0, transform.init(params0), stacked)
    leaves = [np.asarray(x, np.float64) for x in jax.tree.leaves(ups)]  # one copy per leaf, then slice
    return [[x[t] for x in leaves] for t in range(len(grads_seq))], state
