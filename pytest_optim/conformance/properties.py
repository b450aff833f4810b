"""Property checks: structure, dtypes, purity, tracing and invariances of the update rule.

Each compares the candidate with itself under a transformation that must not change the result
(nested tree vs flat vector, permuted coordinates, jit vs eager, vmap vs a loop, a second call
with the same state), or with the oracle on inputs that break careless code (zero gradients,
zero-size and scalar leaves, mixed dtypes).
"""

from __future__ import annotations

import pickle

import jax
import jax.numpy as jnp
import numpy as np

from pytest_optim import seeding

from pytest_optim.conformance import problems

from pytest_optim.conformance import tolerance
from pytest_optim.outcomes import NotApplicable
from pytest_optim.specs.oracle import reports_allowances
from pytest_optim.candidates.selection import Candidate
from pytest_optim.conformance.capabilities import NotSupported, cause
from pytest_optim.conformance.checks import Result, failure, base_lr, build, judged, refused, reported
from pytest_optim.conformance.compare import compare_updates, oracle_updates, with_allowances
from pytest_optim.conformance.runner import call_init, call_update, leaf_paths, replay, replay_run, resolution

STEPS = 5


def _grads_sequence(layout, dtype, steps, seed=0, scale=1.0):
    rng = seeding.rng(seed)
    n = sum(int(np.prod(s, dtype=int)) for s in problems._leaf_shapes(layout))
    return [jax.tree.map(lambda x: jnp.asarray(x, dtype), problems.unflatten(layout, scale * rng.standard_normal(n)))
            for _ in range(steps)]


def _need_traceable(candidate: Candidate, capability: str) -> None:
    if not candidate.traceable:
        raise NotSupported(capability, f"{candidate.label} is {candidate.style} code: JAX cannot trace it")


def _hp_lr(candidate):
    return base_lr(candidate, 0.1)


def _as_np(tree):
    return [np.asarray(x, np.float64) for x in jax.tree.leaves(tree)]


def _allowances(candidate, expected, grads_seq, lr, hp=None, params=None):
    """``expected`` (the candidate's own run, a self-comparison) with the allowances the oracle reports
    for the same gradients (sign margins, spreads): two compilations of one rule may round a sign
    argument near zero to different sides, or a cancelling norm differently. Unchanged for other rules."""
    spec = candidate.spec
    if not reports_allowances(spec):
        return expected
    g_np = [g if isinstance(g, list) else _as_np(g) for g in grads_seq]
    if params is None:  # these runs start at p = 0 and add their own updates (a spread depends on ||p||)
        p = [np.zeros_like(x) for x in g_np[0]]
        params = []
        for u in expected:
            params.append(p)
            p = [a + np.asarray(b, np.float64).reshape(a.shape) for a, b in zip(p, u)]
    full = {**spec.defaults, **(hp or {})}
    return with_allowances(expected, oracle_updates(spec, full, g_np, [lr] * len(g_np), params=params))


def _against_oracle(candidate, family, what, grads_seq, got, lr, hp, dtype, resolution=None, params=None):
    spec = candidate.spec
    full = {**spec.defaults, **hp}
    g_np = [_as_np(g) for g in grads_seq]
    lrs = [lr] * len(g_np)
    expected = oracle_updates(spec, full, g_np, lrs, params=params)
    rtol = tolerance.update_rtol(spec, full, dtype, len(g_np))
    return judged(candidate, family, what, got, expected, leaf_paths(grads_seq[0]), rtol, tolerance.floor(dtype),
                  resolution, diagnose_with=(spec, full, g_np, lrs, params))


def zero_size_and_scalar_leaves(candidate: Candidate, dtype: str = "float32") -> Result:
    layout = {"empty": (0,), "empty2d": (3, 0), "scalar": (), "vector": (4,), "nested": [(), {"m": (2, 2)}]}
    what = f"zero-size and scalar leaves, {dtype}, {STEPS} steps"
    lr = _hp_lr(candidate)
    transform = build(candidate, lr, {}, "pytree", what)
    gs = _grads_sequence(layout, dtype, STEPS)
    params = jax.tree.map(jnp.zeros_like, gs[0])
    with reported(candidate, "pytree", what):
        run = replay_run(candidate.label, transform, gs, params)
    cmp = _against_oracle(candidate, "pytree", what, gs, run.updates, lr, {}, dtype, run.resolution,
                          run.params_before)
    return Result("pytree", True, cmp.worst_ratio, cmp.describe())


def zero_gradients(candidate: Candidate, dtype: str = "float32") -> Result:
    """All-zero gradients (from the start, and after real ones): finite updates, as the oracle says."""
    layout = {"w": (3, 2), "b": (2,)}
    what = f"zero gradients, {dtype}"
    lr = _hp_lr(candidate)
    transform = build(candidate, lr, {}, "robustness", what)
    zeros = [jax.tree.map(jnp.zeros_like, g) for g in _grads_sequence(layout, dtype, 3)]
    gs = zeros + _grads_sequence(layout, dtype, 2) + zeros
    params = jax.tree.map(jnp.ones_like, gs[0])
    with reported(candidate, "robustness", what):
        run = replay_run(candidate.label, transform, gs, params)
    cmp = _against_oracle(candidate, "robustness", what, gs, run.updates, lr, {}, dtype, run.resolution,
                          run.params_before)
    return Result("robustness", True, cmp.worst_ratio, cmp.describe())


def mixed_dtypes(candidate: Candidate) -> Result:
    """One tree with bfloat16, float16, float32 and float64 leaves: dtypes kept, values right."""
    what = "mixed-dtype tree (bfloat16, float16, float32, float64 leaves), 3 steps"
    dtypes = {"bf16": jnp.bfloat16, "f16": jnp.float16, "f32": jnp.float32}
    if jax.config.jax_enable_x64:
        dtypes["f64"] = jnp.float64
    rng = seeding.rng(3)
    steps = 3
    gs = [{k: jnp.asarray(rng.standard_normal(4), d) for k, d in dtypes.items()} for _ in range(steps)]
    params = jax.tree.map(jnp.zeros_like, gs[0])
    lr = _hp_lr(candidate)
    transform = build(candidate, lr, {}, "dtype", what)
    with reported(candidate, "dtype", what):
        state = call_init(candidate.label, transform, params)
        dts0 = [jnp.result_type(x) for x in jax.tree.leaves(state) if hasattr(x, "dtype")]
        got = []
        p = params
        seen = [_as_np(p)]
        for t, g in enumerate(gs):
            u, state = call_update(candidate.label, transform, g, state, p, t + 1)
            got.append(_as_np(u))
            p = jax.tree.map(lambda a, b: a + b, p, u)
            seen.append(_as_np(p))
        dts1 = [jnp.result_type(x) for x in jax.tree.leaves(state) if hasattr(x, "dtype")]
    if candidate.traceable and dts0 != dts1:
        raise failure(candidate, "dtype", what, f"state dtypes drift from {dts0} to {dts1} after {steps} steps")
    res = resolution(seen, [str(jnp.dtype(dtypes[k])) for k in sorted(dtypes)])
    for name, d in dtypes.items():  # each leaf against the oracle at its own dtype's tolerance
        i = sorted(dtypes).index(name)
        single = [[s[i]] for s in got]
        g_single = [{name: g[name]} for g in gs]
        _against_oracle(candidate, "dtype", what + f", leaf {name}", g_single, single, lr, {}, str(jnp.dtype(d)),
                        [[r[i]] for r in res], [[s[i]] for s in seen[:-1]])
    return Result("dtype", True, None, "dtypes preserved; every leaf within its dtype's tolerance")


def pytree_invariance(candidate: Candidate) -> Result:
    """The nested tree and the same numbers as one flat vector get the same updates (elementwise rules)."""
    if candidate.spec.granularity != "element":
        raise NotApplicable(f"{candidate.spec.name} is a {candidate.spec.granularity}-level rule: its update of an "
                            "element depends on the rest of its leaf, so a flat vector is a different problem")
    layout = problems.NESTED_8
    what = "nested pytree vs one flat vector, float64"
    lr = _hp_lr(candidate)
    nested = _grads_sequence(layout, "float64", STEPS)
    flat = [problems.flatten(g) for g in nested]
    t1 = build(candidate, lr, {}, "pytree", what)
    t2 = build(candidate, lr, {}, "pytree", what)
    with reported(candidate, "pytree", what):
        u_nested, _ = replay(candidate.label, t1, nested, jax.tree.map(jnp.zeros_like, nested[0]))
        u_flat, _ = replay(candidate.label, t2, flat, jnp.zeros_like(flat[0]))
    got = [[np.concatenate([np.ravel(x) for x in step])] for step in u_nested]
    expected = [[np.ravel(x) for x in step] for step in u_flat]
    expected = _allowances(candidate, expected, flat, lr)
    rtol = tolerance.update_rtol(candidate.spec, candidate.spec.defaults, "float64", STEPS)
    cmp = compare_updates(got, expected, ["<all leaves, flattened>"], rtol, tolerance.floor("float64"))
    if not cmp.passed:
        raise failure(candidate, "pytree", what, cmp.describe("the flat-vector run"))
    return Result("pytree", True, cmp.worst_ratio, cmp.describe())


def permutation_equivariance(candidate: Candidate) -> Result:
    """Elementwise rules commute with permuting the coordinates."""
    what = "permuted coordinates, float64"
    rng = seeding.rng(5)
    perm = rng.permutation(12)
    lr = _hp_lr(candidate)
    gs = [jnp.asarray(rng.standard_normal(12) * np.geomspace(1e-2, 1e2, 12)) for _ in range(STEPS)]
    with reported(candidate, "equivariance", what):
        a, _ = replay(candidate.label, build(candidate, lr, {}, "equivariance", what), gs, jnp.zeros(12))
        b, _ = replay(candidate.label, build(candidate, lr, {}, "equivariance", what), [g[perm] for g in gs], jnp.zeros(12))
    rtol = tolerance.update_rtol(candidate.spec, candidate.spec.defaults, "float64", STEPS)
    expected = _allowances(candidate, [[x[0]] for x in b], [g[perm] for g in gs], lr)
    cmp = compare_updates([[x[0][perm]] for x in a], expected, ["x"], rtol, tolerance.floor("float64"))
    if not cmp.passed:
        raise failure(candidate, "equivariance", what, cmp.describe("the permuted run"))
    return Result("equivariance", True, cmp.worst_ratio, cmp.describe())


# hyperparameters that make an adaptive rule exactly scale-invariant (every eps-like term 0)
SCALE_FREE = {"eps": 0.0, "eps_root": 0.0, "initial_accumulator_value": 0.0}


def gradient_scale_invariance(candidate: Candidate, factor: float) -> Result:
    """Adaptive methods with eps -> 0: gradients c*g give the same updates as g."""
    spec = candidate.spec
    free = SCALE_FREE if spec.scale_free is None else spec.scale_free
    hp = {k: v for k, v in free.items() if k in spec.defaults}
    what = f"gradients x{factor:g} with {hp}, float64"
    lr = _hp_lr(candidate)
    rng = seeding.rng(11)
    gs = [jnp.asarray(rng.standard_normal(6) + 0.1) for _ in range(STEPS)]
    with reported(candidate, "invariance", what):
        a, _ = replay(candidate.label, build(candidate, lr, hp, "invariance", what), gs, jnp.zeros(6))
        b, _ = replay(candidate.label, build(candidate, lr, hp, "invariance", what), [g * factor for g in gs], jnp.zeros(6))
    rtol = tolerance.update_rtol(spec, {**spec.defaults, **hp}, "float64", STEPS)
    cmp = compare_updates(b, _allowances(candidate, a, gs, lr, hp), ["x"], rtol, tolerance.floor("float64"))
    if not cmp.passed:
        raise failure(candidate, "invariance", what, cmp.describe("the unscaled run"))
    return Result("invariance", True, cmp.worst_ratio, cmp.describe())


def _fingerprint(x):
    """A comparable copy of a leaf: the array's values, or an opaque object's pickled bytes."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return np.array(x, copy=True)
    try:
        return pickle.dumps(x)
    except Exception:  # noqa: BLE001 - an object that cannot be pickled cannot be compared either
        return None


def _snapshot(tree):
    return jax.tree.structure(tree), [_fingerprint(x) for x in jax.tree.leaves(tree)]


def _same(a, b) -> bool:
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return False
    return all(
        np.array_equal(x, y, equal_nan=True) if isinstance(x, np.ndarray) else x == y for x, y in zip(a[1], b[1])
    )


def purity(candidate: Candidate) -> Result:
    """update(g, s, p) twice gives the same result, and never modifies g, s or p."""
    what = "update called twice with the same state, float32"
    lr = _hp_lr(candidate)
    transform = build(candidate, lr, {}, "purity", what)
    gs = _grads_sequence(problems.NESTED_8, "float32", 4)
    params = jax.tree.map(jnp.zeros_like, gs[0])
    with reported(candidate, "purity", what):
        state = call_init(candidate.label, transform, params)
        for t, g in enumerate(gs[:3]):  # reach a state with non-trivial statistics first
            _, state = call_update(candidate.label, transform, g, state, params, t + 1)
        before = (_snapshot(gs[3]), _snapshot(state), _snapshot(params))
        u1, s1 = call_update(candidate.label, transform, gs[3], state, params, 4)
        after = (_snapshot(gs[3]), _snapshot(state), _snapshot(params))
        u2, s2 = call_update(candidate.label, transform, gs[3], state, params, 4)
    for name, b, a in zip(("gradients", "state", "params"), before, after):
        if not _same(b, a):
            raise failure(candidate, "purity", what, f"update modified its input {name} in place")
    for path, x, y in zip(leaf_paths(u1), jax.tree.leaves(u1), jax.tree.leaves(u2)):
        if not np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True):
            diff = float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))
            raise failure(candidate, "purity", what,
                          f"the second call gave a different update at leaf {path} (max difference {diff:.3g}): "
                          "the candidate keeps hidden state outside the returned state (e.g. a Python counter)")
    return Result("purity", True, 0.0, "same result twice; inputs untouched")


def jit_matches_eager(candidate: Candidate) -> Result:
    _need_traceable(candidate, "jit")
    what = f"jax.jit(update) vs eager update, float32, {STEPS} steps"
    lr = _hp_lr(candidate)
    gs = _grads_sequence(problems.NESTED_8, "float32", STEPS, seed=2)
    params = jax.tree.map(jnp.zeros_like, gs[0])
    t_eager = build(candidate, lr, {}, "tracing", what)
    t_jit = build(candidate, lr, {}, "tracing", what)
    with reported(candidate, "tracing", what):
        eager, _ = replay(candidate.label, t_eager, gs, params)
    try:
        jitted = jax.jit(t_jit.update)
        state = call_init(candidate.label, t_jit, params)
        got = []
        p = params
        for g in gs:
            u, state = jitted(g, state, p)
            got.append(_as_np(u))
            p = jax.tree.map(lambda a, b: a + b, p, u)
    except Exception as exc:  # noqa: BLE001 - the eager run worked: jit is what it refuses
        raise NotSupported("jit", f"update under jax.jit raised {cause(exc)}") from None
    rtol = 2 * tolerance.update_rtol(candidate.spec, candidate.spec.defaults, "float32", STEPS)
    cmp = compare_updates(got, _allowances(candidate, eager, gs, lr), leaf_paths(params), rtol,
                          tolerance.floor("float32"))
    if not cmp.passed:
        raise failure(candidate, "tracing", what, cmp.describe("the eager run"))
    return Result("tracing", True, cmp.worst_ratio, cmp.describe())


def vmap_matches_loop(candidate: Candidate) -> Result:
    _need_traceable(candidate, "vmap")
    what = "jax.vmap(init/update) over 3 independent parameter sets vs one at a time, float32"
    lr = _hp_lr(candidate)
    batch = 3
    per = [_grads_sequence(problems.NESTED_8, "float32", STEPS, seed=20 + i) for i in range(batch)]
    stacked = [jax.tree.map(lambda *xs: jnp.stack(xs), *[per[i][t] for i in range(batch)]) for t in range(STEPS)]
    params = jax.tree.map(jnp.zeros_like, stacked[0])
    transform = build(candidate, lr, {}, "tracing", what)
    with reported(candidate, "tracing", what):
        loops = [replay(candidate.label, build(candidate, lr, {}, "tracing", what), per[i],
                        jax.tree.map(jnp.zeros_like, per[i][0]))[0] for i in range(batch)]
    try:
        state = jax.vmap(transform.init)(params)
        upd = jax.vmap(transform.update)
        got = []
        p = params
        for g in stacked:
            u, state = upd(g, state, p)
            got.append(u)
            p = jax.tree.map(lambda a, b: a + b, p, u)  # as the loop (replay) does: rules with decay read p
    except Exception as exc:  # noqa: BLE001 - one at a time worked: vmap is what it refuses
        raise NotSupported("vmap", f"init/update under jax.vmap raised {cause(exc)}") from None
    rtol = 2 * tolerance.update_rtol(candidate.spec, candidate.spec.defaults, "float32", STEPS)
    got = [[np.asarray(x, np.float64) for x in jax.tree.leaves(u)] for u in got]  # host copies, then slice
    for i in range(batch):
        mine = [[x[i] for x in u] for u in got]
        cmp = compare_updates(mine, _allowances(candidate, loops[i], per[i], lr), leaf_paths(per[i][0]), rtol,
                              tolerance.floor("float32"))
        if not cmp.passed:
            raise failure(candidate, "tracing", what, f"batch element {i}: " + cmp.describe("the unbatched run"))
    return Result("tracing", True, None, "vmap == loop")


def scan_matches_eager(candidate: Candidate) -> Result:
    from pytest_optim.conformance.checks import grad_fn
    from pytest_optim.conformance.runner import replay_scan, trajectory

    _need_traceable(candidate, "scan")
    what = "lax.scan vs eager Python loop on the eager run's gradients, quadratic_k10, float64, 30 steps"
    problem = problems.get("quadratic_k10")
    lr = base_lr(candidate, problem.lr_for(candidate.spec))
    params0 = problem.params0("float64")
    with reported(candidate, "tracing", what):
        b = trajectory(candidate.label, build(candidate, lr, {}, "tracing", what), grad_fn("quadratic_k10", 1.0),
                       params0, 30, lr, "eager", fallback=False)
    # The scan run is fed the eager run's gradients (as the oracle checks feed the oracle the candidate's):
    # driving itself, a rule that is not contractive at this lr (bounded relative steps) would amplify
    # the two compilations' rounding differences step by step, which says nothing about scan.
    treedef = jax.tree.structure(params0)
    grads_seq = [jax.tree.unflatten(treedef, [jnp.asarray(x) for x in g]) for g in b.grads]
    try:
        a_updates, _ = replay_scan(build(candidate, lr, {}, "tracing", what), grads_seq, params0)
    except Exception as exc:  # noqa: BLE001 - the eager loop worked: lax.scan is what it refuses
        raise NotSupported("scan", f"update inside jax.lax.scan raised {cause(exc)}") from None
    rtol = 2 * tolerance.update_rtol(candidate.spec, candidate.spec.defaults, "float64", 30)
    expected = _allowances(candidate, b.updates, b.grads, lr, params=b.params_before)
    cmp = compare_updates(a_updates, expected, b.paths, rtol, tolerance.floor("float64"))
    if not cmp.passed:
        raise failure(candidate, "tracing", what, cmp.describe("the eager run"))
    return Result("tracing", True, cmp.worst_ratio, cmp.describe())


def no_recompilation(candidate: Candidate) -> Result:
    """A jitted update compiles once: state structure and dtypes are stable, nothing is static."""
    _need_traceable(candidate, "jit")
    what = "jax.jit(update) called 6 times with new values"
    lr = _hp_lr(candidate)
    transform = build(candidate, lr, {}, "tracing", what)
    gs = _grads_sequence(problems.NESTED_8, "float32", 6, seed=4)
    params = jax.tree.map(jnp.zeros_like, gs[0])
    compiles = []

    def update(g, s, p):
        compiles.append(1)  # runs once per trace
        return transform.update(g, s, p)

    jitted = jax.jit(update)
    try:
        state = call_init(candidate.label, transform, params)
        for g in gs:
            u, state = jitted(g, state, params)
    except Exception as exc:  # noqa: BLE001
        unsupported = refused(candidate, "jit", "update under jax.jit", exc,
                              lambda: replay(candidate.label, transform, gs[:1], params))
        if unsupported is not None:
            raise unsupported from None
        raise failure(candidate, "tracing", what, f"jax.jit(update) failed: {type(exc).__name__}: {exc}") from None
    if len(compiles) != 1:
        raise failure(candidate, "tracing", what,
                      f"update was traced {len(compiles)} times in 6 calls: the state changes type, shape or "
                      "dtype between steps, or a Python value is baked into the trace")
    return Result("tracing", True, 0.0, "traced once for 6 calls")


def hyperparameters_as_arrays(candidate: Candidate, traced: bool) -> Result:
    """Python floats, jnp arrays and traced values (inside jit) give the same updates."""
    spec = candidate.spec
    capability = "traced_hyperparameters" if traced else "array_hyperparameters"
    if traced:
        _need_traceable(candidate, capability)
    what = f"hyperparameters as {'traced values inside jit' if traced else 'jnp arrays'}, float32"
    lr = 0.05
    hp = dict(spec.varied)  # away from the defaults, so an ignored value shows
    if not candidate.is_factory:
        raise NotApplicable("a ready-made transform's hyperparameters cannot be passed as arrays; pass a factory")
    gs = _grads_sequence({"w": (5,), "b": ()}, "float32", STEPS, seed=9)
    params = jax.tree.map(jnp.zeros_like, gs[0])
    as_arrays = {k: jnp.asarray(v, jnp.float32) for k, v in hp.items()}
    with reported(candidate, "hyperparameters", what):
        ref, _ = replay(candidate.label, build(candidate, lr, hp, "hyperparameters", what), gs, params)
    names = ", ".join(["learning_rate", *hp])
    try:
        if not traced:
            got, _ = replay(candidate.label, candidate.make(jnp.asarray(lr, jnp.float32), **as_arrays), gs, params)
        else:
            state = call_init(candidate.label, candidate.make(lr, **hp), params)

            @jax.jit
            def step(lr_, hps, g, s, p):
                return candidate.make(lr_, **hps).update(g, s, p)

            got = []
            p = params
            for g in gs:
                u, state = step(jnp.asarray(lr, jnp.float32), as_arrays, g, state, p)
                got.append(_as_np(u))
                p = jax.tree.map(lambda a, b: a + b, p, u)  # as the reference run (replay) does
    except Exception as exc:  # noqa: BLE001 - the Python-float run worked: the arrays are what it refuses
        if traced:
            reason = f"building and updating it inside jax.jit with {names} as traced values raised {cause(exc)}"
        else:
            reason = f"building or updating it with {names} as jnp arrays raised {cause(exc)}"
        raise NotSupported(capability, f"takes no {'traced' if traced else 'array'} hyperparameters: {reason}") from None
    rtol = 2 * tolerance.update_rtol(spec, {**spec.defaults, **hp}, "float32", STEPS)
    cmp = compare_updates(got, _allowances(candidate, ref, gs, lr, hp), leaf_paths(params), rtol,
                          tolerance.floor("float32"))
    if not cmp.passed:
        raise failure(candidate, "hyperparameters", what, cmp.describe("the Python-float run"))
    return Result("hyperparameters", True, cmp.worst_ratio, cmp.describe())
