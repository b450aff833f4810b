"""Composition checks: the candidate inside the machinery a JAX training loop puts around it.

What the most rigorous suites check beyond the rule itself (torch's TestOptimRenewed: state_dict
round trips; optax's alias_test: inject_hyperparams, MultiSteps, masked and complex parameters),
where it means something for an optax-style candidate:

* ``checkpoint_round_trip``: the state, copied to host arrays (as a checkpoint stores it) and
  restored into a freshly built transform, resumes the same trajectory, bit for bit;
* ``inject_hyperparams``: ``optax.inject_hyperparams(factory)(...)`` gives the same updates, and a
  learning rate changed in its state is honoured;
* ``multi_steps``: ``optax.MultiSteps(candidate, k)`` over k micro-batches equals one step on their
  mean;
* ``frozen_leaves``: ``optax.multi_transform`` with ``optax.set_to_zero()`` for some leaves (the
  candidate sees ``optax.MaskedNode`` there); and leaves with zero gradients throughout, which move
  exactly as the oracle says;
* ``complex_parameters``: complex leaves follow the spec's complex rule (its record's ``complex_rule``).

Each optional one is a capability (``capabilities.CAPABILITIES``): refusing it is "not supported",
accepting it and computing other numbers is a failure.
"""

from __future__ import annotations

import inspect
import io
import pickle

import jax
import jax.numpy as jnp
import numpy as np

from pytest_optim import seeding
from pytest_optim.candidates.selection import Candidate
from pytest_optim.conformance import problems, tolerance
from pytest_optim.conformance.capabilities import NotSupported, cause
from pytest_optim.conformance.checks import Result, build, failure, judged, reported
from pytest_optim.conformance.compare import compare_updates, judge, oracle_updates
from pytest_optim.conformance.properties import _against_oracle, _grads_sequence, _hp_lr, _need_traceable
from pytest_optim.conformance.runner import call_init, call_update, leaf_paths, replay_run
from pytest_optim.outcomes import CandidateError, NotApplicable

# Every check here runs on this small nested tree: a matrix, a vector and a scalar leaf.
LAYOUT = {"w": (3, 2), "b": (2,), "s": ()}

# The complex rule of a spec is its record's ``complex_rule``:
#   "linear":  the update is R-linear in the gradient, so a complex leaf's update is the update of
#              its real view (re and im as two real arrays): a true identity, whatever convention.
#   "modulus": second-moment statistics of |g| (optax: numerics.abs_sq(g) = (conj(g) g).real in
#              scale_by_adam, scale_by_rms, scale_by_rss, scale_by_belief; jnp.abs in scale_by_adamax),
#              first moments linear in g. Such a rule is equivariant under a phase: gradients
#              e^{i theta} r_t (one fixed phase per element, r_t real) give e^{i theta} times the
#              real rule's updates for r_t, exactly. That identity is what is checked.
#   None:      no complex rule is recorded (a sign-based rule, say): the check is n/a.


def _tree(layout, values, dtype):
    return jax.tree.map(lambda x: jnp.asarray(x, dtype), problems.unflatten(layout, values))


def _size(layout) -> int:
    return sum(int(np.prod(s, dtype=int)) for s in problems._leaf_shapes(layout))


def _params0(dtype, seed=31):
    n = _size(LAYOUT)
    return _tree(LAYOUT, 1.0 + 0.5 * seeding.rng(seed).standard_normal(n), dtype)


def _host(tree) -> list[np.ndarray]:
    return [np.asarray(x, np.float64) for x in jax.tree.leaves(tree)]


def _eager(candidate, transform, grads_seq, params, state=None, start=1):
    """The eager loop of replay_run, from a given state: (updates as host copies, params after, state)."""
    if state is None:
        state = call_init(candidate.label, transform, params)
    out = []
    for t, g in enumerate(grads_seq):
        u, state = call_update(candidate.label, transform, g, state, params, start + t)
        out.append([np.array(x, copy=True) for x in jax.tree.leaves(u)])
        params = jax.tree.map(lambda p, d: (p + d).astype(p.dtype), params, u)
    return out, params, state


# -- 1. checkpoint round trip --------------------------------------------------------------------

CHECKPOINT_AT, RESUMED = 3, 3


def _saved_leaves(candidate, what, state):
    """The state as a checkpoint holds it: each leaf a host NumPy array, pickled (bytes)."""
    leaves = jax.tree_util.tree_flatten_with_path(state)[0]
    host = []
    for path, x in leaves:
        arr = np.asarray(x) if hasattr(x, "dtype") or isinstance(x, (bool, int, float, complex)) else None
        if arr is None or arr.dtype == object or arr.dtype.kind not in "biufc":
            raise failure(candidate, "checkpoint", what,
                          f"state leaf {jax.tree_util.keystr(path) or '<root>'} is a {type(x).__name__}, not an "
                          "array: a checkpoint (orbax, flax.serialization, np.savez) stores the state's array "
                          "leaves only; keep Python objects out of the state (hyperparameters belong in the "
                          "closure, counters in a jnp array)")
        host.append(np.array(arr, copy=True))
    weak = [jax.tree_util.keystr(p) for p, x in leaves if getattr(x, "weak_type", False)]
    return pickle.dumps(host), [jax.tree_util.keystr(p) for p, _ in leaves], weak


def _restore_jax(candidate, what, fresh, params, blob, paths):
    """Into a fresh transform's own init state (the restore target, as orbax takes it)."""
    with reported(candidate, "checkpoint", what):
        template = call_init(candidate.label, fresh, params)
    target = leaf_paths(template)
    if target != paths:
        raise failure(candidate, "checkpoint", what,
                      f"a freshly built transform's init state has leaves {target}, the saved state {paths}: "
                      "the state's structure depends on more than the parameters and the hyperparameters")
    return jax.tree.unflatten(jax.tree.structure(template), [jnp.asarray(x) for x in pickle.loads(blob)])


def _torch_round_trip(candidate, what, state, fresh, params):
    """torch's public checkpoint API: state_dict() of the optimizer, load_state_dict() into a fresh one.

    The adapter (candidates/torch_style.TorchStep) builds its torch optimizer at the first step;
    the fresh one is built here the same way (zero tensors of the same shapes, lr=0: the adapter
    sets every group's lr before each step) and loaded from the saved bytes."""
    import torch

    obj = getattr(state, "obj", None)
    if obj is None or not isinstance(getattr(obj, "opt", None), torch.optim.Optimizer):
        raise NotApplicable(f"{candidate.label}: the adapter exposes no torch optimizer to take a state_dict of")
    buf = io.BytesIO()
    torch.save(obj.opt.state_dict(), buf)
    with reported(candidate, "checkpoint", what):
        template = call_init(candidate.label, fresh, params)
    new = template.obj
    new.tensors = [torch.zeros_like(t) for t in obj.tensors]
    new.opt = new.optimizer_cls(new.tensors, lr=0.0, **new.settings)
    buf.seek(0)
    try:
        new.opt.load_state_dict(torch.load(buf, weights_only=True))
    except Exception as exc:  # noqa: BLE001 - the user's optimizer class is arbitrary code
        raise failure(candidate, "checkpoint", what,
                      f"load_state_dict of its own state_dict into a fresh optimizer raised {cause(exc)}") from None
    new.count = obj.count  # the adapter's own step count (for schedules), not the optimizer's state
    return template


def _pickle_round_trip(candidate, what, state, fresh, params):
    """A NumPy-style optimizer is its object: the checkpoint is the pickled object."""
    try:
        blob = pickle.dumps(state.obj)
    except Exception as exc:  # noqa: BLE001
        raise failure(candidate, "checkpoint", what,
                      f"the optimizer object does not pickle ({cause(exc)}): it holds something a checkpoint "
                      "cannot store (a lambda, an open file, a generator)") from None
    with reported(candidate, "checkpoint", what):
        template = call_init(candidate.label, fresh, params)
    template.obj = pickle.loads(blob)
    return template


def checkpoint_round_trip(candidate: Candidate, dtype: str = "float32") -> Result:
    """Save the state after 3 steps, restore it into a fresh transform, resume 3 steps: the updates
    equal those of the uninterrupted run exactly (same code, same inputs: bit for bit)."""
    steps = CHECKPOINT_AT + RESUMED
    what = (f"checkpoint after {CHECKPOINT_AT} steps (state to host arrays and back), restored into a fresh "
            f"transform, {RESUMED} more steps, {dtype}")
    lr = _hp_lr(candidate)
    hp = dict(candidate.spec.varied) if candidate.is_factory else {}
    gs = _grads_sequence(LAYOUT, dtype, steps, seed=41)
    params0 = _params0(dtype)
    transform = build(candidate, lr, hp, "checkpoint", what)
    with reported(candidate, "checkpoint", what):
        state = call_init(candidate.label, transform, params0)
        first, params_mid, state = _eager(candidate, transform, gs[:CHECKPOINT_AT], params0, state)
    fresh = build(candidate, lr, hp, "checkpoint", what)
    weak: list[str] = []
    how = "state leaves as host NumPy arrays, pickled, restored into the fresh transform's init state"
    if candidate.style == "PyTorch":
        how = "torch's optimizer.state_dict(), torch.save/torch.load, load_state_dict() of a fresh optimizer"
        # the adapter's state is the live optimizer object: save it before it steps on
        restored = _torch_round_trip(candidate, what, state, fresh, params_mid)
    elif candidate.style == "NumPy-style":
        how = "the optimizer object pickled and unpickled"
        restored = _pickle_round_trip(candidate, what, state, fresh, params_mid)
    else:
        blob, paths, weak = _saved_leaves(candidate, what, state)
        restored = _restore_jax(candidate, what, fresh, params_mid, blob, paths)
    with reported(candidate, "checkpoint", what):
        straight, _, _ = _eager(candidate, transform, gs[CHECKPOINT_AT:], params_mid, state, CHECKPOINT_AT + 1)
        resumed, _, _ = _eager(candidate, fresh, gs[CHECKPOINT_AT:], params_mid, restored, CHECKPOINT_AT + 1)
    paths_u = leaf_paths(params0)
    for t, (a, b) in enumerate(zip(straight, resumed)):
        for path, x, y in zip(paths_u, a, b):
            if x.dtype != y.dtype or not np.array_equal(x, y, equal_nan=True):
                diff = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.size else 0.0
                hint = ("the candidate keeps state outside the returned state (a Python step counter, a "
                        "closure or attribute), which a restored run starts afresh")
                if weak:
                    hint += (f"; or: the state leaves {', '.join(weak)} are weakly typed (Python scalars made "
                             "arrays), and a restored array is not, so it promotes differently")
                raise failure(candidate, "checkpoint", what,
                              f"resumed step {CHECKPOINT_AT + 1 + t} differs from the uninterrupted run at leaf "
                              f"{path} (max difference {diff:.3g}; dtypes {x.dtype} / {y.dtype}): {hint}")
    del first
    return Result("checkpoint", True, 0.0, f"resumed bit for bit ({how})")


# -- 2. optax.inject_hyperparams -----------------------------------------------------------------

INJECT_STEPS, LR_CHANGE_AT = 5, 3


def inject_hyperparams(candidate: Candidate) -> Result:
    """``optax.inject_hyperparams(factory)(learning_rate=lr, **hp)`` under jit: the same updates as
    the factory's own transform, and a learning rate set in its state afterwards is honoured."""
    import optax

    spec = candidate.spec
    if not candidate.is_factory:
        raise NotApplicable("a ready-made transform has no factory for optax.inject_hyperparams to call; pass "
                            "the factory")
    _need_traceable(candidate, "inject_hyperparams")
    what = (f"optax.inject_hyperparams(factory) under jax.jit, float64, {INJECT_STEPS} steps, learning rate "
            f"halved in its state after step {LR_CHANGE_AT}")
    lr = 0.05
    hp = dict(spec.varied)  # away from the defaults, so an injected value that is ignored shows
    full = {**spec.defaults, **hp}
    gs = _grads_sequence(LAYOUT, "float64", INJECT_STEPS, seed=43)
    params = _params0("float64")
    plain = build(candidate, lr, hp, "inject_hyperparams", what)
    with reported(candidate, "inject_hyperparams", what):
        ref = replay_run(candidate.label, plain, gs[:LR_CHANGE_AT], params)
    try:
        kwargs = {"learning_rate": lr, **full, **candidate.settings}
        injected = optax.inject_hyperparams(_with_signature(candidate.factory, kwargs))(**kwargs)
        step = jax.jit(injected.update)
        state = injected.init(params)
        got, seen, p = [], [], params
        for t, g in enumerate(gs):
            if t == LR_CHANGE_AT:
                state = state._replace(hyperparams={**state.hyperparams,
                                                    "learning_rate": jnp.asarray(lr / 2, jnp.float64)})
            seen.append(_host(p))
            u, state = step(g, state, p)
            got.append(_host(u))
            p = jax.tree.map(lambda a, b: a + b, p, u)
    except Exception as exc:  # noqa: BLE001 - the plain transform worked: the injected arrays are refused
        raise NotSupported("inject_hyperparams",
                           f"optax.inject_hyperparams(factory) under jax.jit (hyperparameters as traced arrays) "
                           f"raised {cause(exc)}") from None
    rtol = 2 * tolerance.update_rtol(spec, full, "float64", INJECT_STEPS)  # two runs, each within rtol
    cmp = compare_updates(got[:LR_CHANGE_AT], ref.updates, leaf_paths(params), rtol, tolerance.floor("float64"))
    if not cmp.passed:
        raise failure(candidate, "inject_hyperparams", what,
                      cmp.describe("the factory's own transform (no inject_hyperparams)"))
    lrs = [lr] * LR_CHANGE_AT + [lr / 2] * (INJECT_STEPS - LR_CHANGE_AT)
    g_np = [_host(g) for g in gs]
    expected = oracle_updates(spec, full, g_np, lrs, params=seen)
    rtol1 = tolerance.update_rtol(spec, full, "float64", INJECT_STEPS)
    floor = tolerance.floor("float64")
    for alt in spec.schedule_equivalents:  # a learning rate that changes is a schedule's convention
        alt_cmp = _compare_or_none(got, oracle_updates(spec, full, g_np, lrs, alt.variant, seen), params, rtol1)
        if alt_cmp is not None and alt_cmp.passed and not _compare_or_none(got, expected, params, rtol1).passed:
            return Result("inject_hyperparams", True, alt_cmp.worst_ratio,
                          f"identical to the plain transform; the changed learning rate follows {alt.label} "
                          f"[{alt.key}]", {"convention": alt.key})
    cmp2 = judged(candidate, "inject_hyperparams", what + " (vs the oracle with that learning rate)", got, expected,
                  leaf_paths(params), rtol1, floor)
    return Result("inject_hyperparams", True, max(cmp.worst_ratio, cmp2.worst_ratio),
                  f"identical to the plain transform ({cmp.describe()}); changed learning rate honoured")


def _with_signature(factory, kwargs):
    """The factory with an explicit keyword signature: inject_hyperparams binds the factory's
    signature, and one taking ``**kwargs`` (an adapter's factory) would get them as one argument."""
    def explicit(**kw):
        return factory(**kw)

    explicit.__signature__ = inspect.Signature(
        [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY) for k in kwargs])
    return explicit


def _compare_or_none(got, expected, params, rtol):
    try:
        return judge(got, expected, leaf_paths(params), rtol, tolerance.floor("float64"))
    except Exception:  # noqa: BLE001 - below resolution cannot happen without a resolution; be safe
        return None


# -- 3. gradient accumulation: optax.MultiSteps --------------------------------------------------

K_MICRO, MACRO_STEPS = 4, 2


def _exact_mean_micro_batches(n: int, k: int, macro: int, seed: int = 47):
    """k micro-batch gradients per macro step whose mean is exact in float64 in any order of summation.

    The running means a_1..a_k are chosen first, small dyadic numbers (integers below 2^12 times
    2^-10 times a power of two per element), and g_1 = a_1, g_j = a_{j-1} + j (a_j - a_{j-1}).
    MultiSteps' Welford update a_{j-1} + (g_j - a_{j-1}) / j then computes every a_j exactly (each
    intermediate is a dyadic number of under 30 significant bits), and so does sum(g) / k for k a
    power of two. The mean the candidate sees inside MultiSteps is bitwise the mean the plain run
    gets: no error of the accumulation enters the comparison, whose tolerance is then the candidate's
    own (see ``multi_steps``)."""
    rng = seeding.rng(seed)
    scale = 2.0 ** rng.integers(-6, 4, n)
    micro, means = [], []
    for _ in range(macro):
        a = rng.integers(-2 ** 12, 2 ** 12, (k, n)) * 2.0 ** -10 * scale
        g = np.empty_like(a)
        g[0] = a[0]
        for j in range(1, k):
            g[j] = a[j - 1] + (j + 1) * (a[j] - a[j - 1])
        assert np.array_equal(g.sum(0) / k, a[-1])
        micro.extend(g)
        means.append(a[-1])
    return micro, means


def _state_is_stable(candidate, family, what, transform, g, params):
    """lax.cond, jnp.where over the state, jit and scan need the state to keep its structure."""
    with reported(candidate, family, what):
        state = call_init(candidate.label, transform, params)
    try:
        out = jax.eval_shape(transform.update, g, state, params)
    except Exception:  # noqa: BLE001 - not traceable at all: the caller reports that
        return
    s_in, s_out = jax.tree.structure(state), jax.tree.structure(out[1])
    if s_in != s_out:
        raise failure(candidate, family, what,
                      f"the state changes structure after one update ({s_in} -> {s_out}): optax.MultiSteps "
                      "selects between the old and the new state with lax.cond / jnp.where, which (as jit and "
                      "scan) need a state of fixed structure; create every state leaf in init")
    for path, a, b in zip(leaf_paths(state), jax.tree.leaves(jax.eval_shape(lambda s: s, state)),
                          jax.tree.leaves(out[1])):
        if (a.dtype, a.shape) != (b.dtype, b.shape):
            raise failure(candidate, family, what,
                          f"state leaf {path} changes from {a.dtype}{list(a.shape)} to {b.dtype}{list(b.shape)} "
                          "after one update: optax.MultiSteps keeps the state's dtypes and would cast it back")


def multi_steps(candidate: Candidate) -> Result:
    """``optax.MultiSteps(candidate, every_k_schedule=k)`` over k micro-batches: its k-th update equals
    the candidate's own update on the micro-batches' mean (float64, accumulator in float64)."""
    import optax

    _need_traceable(candidate, "multi_steps")
    spec = candidate.spec
    k, macro = K_MICRO, MACRO_STEPS
    what = (f"optax.MultiSteps(every_k_schedule={k}) over {k * macro} micro-batches vs {macro} steps on their "
            "means, float64")
    lr = _hp_lr(candidate)
    n = _size(LAYOUT)
    micro, means = _exact_mean_micro_batches(n, k, macro)
    micro = [_tree(LAYOUT, g, "float64") for g in micro]
    means = [_tree(LAYOUT, g, "float64") for g in means]
    params = _params0("float64")
    plain = build(candidate, lr, {}, "multi_steps", what)
    _state_is_stable(candidate, "multi_steps", what, plain, micro[0], params)
    with reported(candidate, "multi_steps", what):
        ref = replay_run(candidate.label, plain, means, params)
    try:
        ms = optax.MultiSteps(build(candidate, lr, {}, "multi_steps", what), every_k_schedule=k,
                              accumulator_dtype=jnp.float64)
        step = jax.jit(ms.update)
        state = ms.init(params)
        got, between, p = [], [], params
        for j, g in enumerate(micro):
            u, state = step(g, state, p)
            (got if (j + 1) % k == 0 else between).append(_host(u))
            p = jax.tree.map(lambda a, b: a + b, p, u)
    except Exception as exc:  # noqa: BLE001 - the plain run worked: the wrapper is what it refuses
        raise NotSupported("multi_steps", f"optax.MultiSteps(candidate, every_k_schedule={k}) under jax.jit "
                                          f"raised {cause(exc)}") from None
    if any(np.any(x != 0) for step_u in between for x in step_u):
        raise failure(candidate, "multi_steps", what,
                      "MultiSteps emitted a non-zero update between accumulation boundaries: the candidate's "
                      "update of a partial mean was not finite (emit * update is NaN there)")
    # Same rule, same (exact) mean gradient, compiled differently (inside lax.cond under jit vs
    # eagerly): each run is within the rule's float64 rtol of the exact update, so they differ by 2 rtol.
    rtol = 2 * tolerance.update_rtol(spec, spec.defaults, "float64", macro)
    cmp = judged(candidate, "multi_steps", what, got, ref.updates, leaf_paths(params), rtol,
                 tolerance.floor("float64"), against="the candidate's own update on the mean gradient")
    return Result("multi_steps", True, cmp.worst_ratio, cmp.describe())


# -- 4. frozen leaves: optax.multi_transform, zero-gradient leaves -------------------------------

FROZEN_LAYOUT = {"enc": {"w": (3, 2), "b": (2,)}, "head": {"w": (2,), "b": ()}, "emb": (4,)}
FROZEN_LABELS = {"enc": {"w": "frozen", "b": "train"}, "head": {"w": "train", "b": "frozen"}, "emb": "train"}
FROZEN_STEPS = 4


def _trainable(tree):
    return {"enc": {"b": tree["enc"]["b"]}, "head": {"w": tree["head"]["w"]}, "emb": tree["emb"]}


def frozen_leaves(candidate: Candidate, dtype: str = "float32") -> Result:
    """``optax.multi_transform({'train': candidate, 'frozen': optax.set_to_zero()}, labels)``: the frozen
    leaves stay exactly put, the trainable ones get the candidate's own updates on the trainable subtree.

    multi_transform hands the candidate the whole tree with the frozen leaves replaced by
    ``optax.MaskedNode()`` (an empty pytree node, no leaves). A candidate that crashes on it fails:
    an optimizer's contract is any pytree of arrays (the harness's pytree family), MaskedNode is one,
    and multi_transform / optax.masked are how JAX users freeze parameters; it is not optional."""
    import optax

    what = (f"optax.multi_transform with set_to_zero() for frozen leaves {sorted(_frozen_paths())}, {dtype}, "
            f"{FROZEN_STEPS} steps")
    lr = _hp_lr(candidate)
    gs = _grads_sequence(FROZEN_LAYOUT, dtype, FROZEN_STEPS, seed=53)  # frozen leaves get gradients too
    n = _size(FROZEN_LAYOUT)
    params = _tree(FROZEN_LAYOUT, 1.0 + 0.5 * seeding.rng(54).standard_normal(n), dtype)
    inner = build(candidate, lr, {}, "frozen", what)
    alone = build(candidate, lr, {}, "frozen", what)
    tx = optax.multi_transform({"train": inner, "frozen": optax.set_to_zero()}, FROZEN_LABELS)
    with reported(candidate, "frozen", what):
        ref = replay_run(candidate.label, alone, [_trainable(g) for g in gs], _trainable(params))
    try:
        run = replay_run(candidate.label, tx, gs, params)
    except CandidateError as exc:
        raise failure(candidate, "frozen", what,
                      f"{exc} — multi_transform gives the candidate the whole tree with the other labels' "
                      "leaves replaced by optax.MaskedNode() (an empty node): map over the tree with "
                      "jax.tree.map instead of handling arrays (or dict values) one by one") from None
    paths = leaf_paths(params)
    frozen = _frozen_paths()
    for t, step_u in enumerate(run.updates):
        for path, u in zip(paths, step_u):
            if path in frozen and np.any(u != 0):
                raise failure(candidate, "frozen", what, f"frozen leaf {path} moved at step {t + 1} "
                                                         f"(max |update| {np.max(np.abs(u)):.3g})")
    idx = [i for i, p in enumerate(paths) if p not in frozen]
    got = [[step_u[i] for i in idx] for step_u in run.updates]
    res = [[r[i] for i in idx] for r in run.resolution]
    # the same rule on the same numbers, on a tree with MaskedNode where the other has nothing: an
    # implementation reducing over leaves may order its sums differently; each within rtol: 2 rtol
    rtol = 2 * tolerance.update_rtol(candidate.spec, candidate.spec.defaults, dtype, FROZEN_STEPS)
    cmp = compare_updates(got, ref.updates, [paths[i] for i in idx], rtol, tolerance.floor(dtype), res)
    if not cmp.passed:
        raise failure(candidate, "frozen", what, cmp.describe("the candidate alone on the trainable subtree"))
    return Result("frozen", True, cmp.worst_ratio, cmp.describe())


def _frozen_paths() -> set[str]:
    flat = jax.tree_util.tree_flatten_with_path(FROZEN_LABELS)[0]
    return {jax.tree_util.keystr(p) for p, label in flat if label == "frozen"}


def zero_gradient_leaves(candidate: Candidate, dtype: str = "float32") -> Result:
    """Some leaves get exactly zero gradients throughout while others train: each moves as the oracle
    says (0 for the current specs; a rule with weight decay moves them), not asserted to be 0."""
    what = f"leaves with zero gradients from the start beside trained ones, {dtype}, 5 steps"
    lr = _hp_lr(candidate)
    zero = {"w"}
    gs = [{k: (jnp.zeros_like(v) if k in zero else v) for k, v in g.items()}
          for g in _grads_sequence(LAYOUT, dtype, 5, seed=57)]
    params = _params0(dtype)
    transform = build(candidate, lr, {}, "frozen", what)
    with reported(candidate, "frozen", what):
        run = replay_run(candidate.label, transform, gs, params)
    cmp = _against_oracle(candidate, "frozen", what, gs, run.updates, lr, {}, dtype, run.resolution,
                          run.params_before)
    return Result("frozen", True, cmp.worst_ratio, cmp.describe())


# -- 5. complex parameters -----------------------------------------------------------------------

COMPLEX_STEPS = 5


def complex_rule(spec) -> str | None:
    return spec.complex_rule


def complex_parameters(candidate: Candidate) -> Result:
    """Complex leaves against the spec's complex rule, derived from the float64 oracle (the record's complex_rule)."""
    spec = candidate.spec
    rule = complex_rule(spec)
    if rule is None:
        raise NotApplicable(f"the {spec.name} spec records no complex rule (its "
                            "complex_rule is None): nothing to compare complex updates with")
    if candidate.style != "jax":
        raise NotApplicable(f"{candidate.label} is {candidate.style} code driven through the harness's adapter, "
                            "which carries real float32/float64 arrays only: complex parameters would not reach "
                            "it unchanged")
    lr = _hp_lr(candidate)
    rng = seeding.rng(59)
    n = _size(LAYOUT)
    real = [rng.standard_normal(n) for _ in range(COMPLEX_STEPS)]
    if rule == "linear":
        imag = [rng.standard_normal(n) for _ in range(COMPLEX_STEPS)]
        grads = [r + 1j * i for r, i in zip(real, imag)]
        p0 = (1.0 + rng.standard_normal(n)) + 1j * rng.standard_normal(n)
        what = f"complex128 leaves, independent real and imaginary parts, {COMPLEX_STEPS} steps (linear rule)"
    else:
        # one phase per element, |cos| and |sin| >= 1/2: theta in [pi/6, pi/3] in each quadrant
        theta = rng.uniform(np.pi / 6, np.pi / 3, n) + rng.integers(0, 4, n) * np.pi / 2
        phase = np.exp(1j * theta)
        grads = [phase * r for r in real]
        p0 = phase * (1.0 + 0.5 * rng.standard_normal(n))
        what = (f"complex128 leaves, gradients e^(i theta) r_t (a fixed phase per element), {COMPLEX_STEPS} steps "
                "(|g|^2 statistics: optax's abs_sq convention)")
    gs = [_tree(LAYOUT, g, "complex128") for g in grads]
    params = _tree(LAYOUT, p0, "complex128")
    transform = build(candidate, lr, {}, "complex", what)
    try:
        got_c, _, _ = _eager(candidate, transform, gs, params)
    except CandidateError as exc:
        real_gs = [_tree(LAYOUT, r, "float64") for r in real]
        try:
            replay_run(candidate.label, build(candidate, lr, {}, "complex", what), real_gs[:1],
                       _tree(LAYOUT, np.ones(n), "float64"))
        except CandidateError:
            raise failure(candidate, "complex", what, str(exc)) from None
        raise NotSupported("complex", f"update with complex128 leaves raised {cause(exc)}") from None
    flat = [np.concatenate([np.ravel(x) for x in step]) for step in got_c]
    full = dict(spec.defaults)
    u = tolerance.unit_roundoff("float64")
    rtol = tolerance.update_rtol(spec, full, "float64", COMPLEX_STEPS)
    floor = tolerance.floor("float64")
    paths = ["<real parts>", "<imaginary parts>"]
    got = [[f.real, f.imag] for f in flat]
    ps = [p0]
    for f in flat:
        ps.append(ps[-1] + f)

    def real_view(g_seq):  # the oracle on re and im as two real arrays
        gv = [[g.real, g.imag] for g in g_seq]
        pv = [[p.real, p.imag] for p in ps[:-1]]
        return oracle_updates(spec, full, gv, [lr] * COMPLEX_STEPS, params=pv)

    g_seen = [np.concatenate([np.ravel(np.asarray(x)) for x in jax.tree.leaves(g)]) for g in gs]
    if rule == "linear":
        # complex * real scalar and complex + complex round each component as the real view does
        cmp = judged(candidate, "complex", what, got, real_view(g_seen), paths, rtol, floor,
                     against="the float64 oracle on the real view (re, im)")
        return Result("complex", True, cmp.worst_ratio, cmp.describe())
    # modulus rule: expected e^{i theta} * oracle(r_t). The candidate's inputs e^{i theta} r_t are rounded
    # (u per component), |g|^2 = re^2 + im^2 takes 3 roundings where r^2 takes 1, and the expected
    # value's own product e^{i theta} o rounds once more: 8 u more, relative to the modulus |o|, which
    # is at most 2 |component| here (|cos|, |sin| >= 1/2): rtol' = 2 (rtol + 8 u).
    on_ray = [np.real(np.conj(phase) * g) for g in g_seen]  # the real sequence the candidate saw
    pr = [np.real(np.conj(phase) * p) for p in ps[:-1]]
    o = oracle_updates(spec, full, [[r] for r in on_ray], [lr] * COMPLEX_STEPS, params=[[p] for p in pr])
    expected = [[(phase * e[0]).real, (phase * e[0]).imag] for e in o]
    rtol_c = 2 * (rtol + 8 * u)
    try:
        cmp = judge(got, expected, paths, rtol_c, floor)
    except Exception:  # noqa: BLE001
        cmp = None
    if cmp is not None and cmp.passed:
        return Result("complex", True, cmp.worst_ratio, cmp.describe())
    alt = judge(got, real_view(g_seen), paths, rtol, floor)
    if alt.passed:
        return Result("complex", True, alt.worst_ratio,
                      "follows the real-view convention (re and im as independent real coordinates, as "
                      "torch.optim does with view_as_real), not optax's |g|^2 one; " + alt.describe(),
                      {"convention": "real_view"})
    rotated = np.stack([np.conj(phase) * f for f in flat])  # real for any phase-equivariant rule
    if np.max(np.abs(rotated.imag)) > 1e-6 * np.max(np.abs(rotated)):
        # Code written for real parameters (g * g, g ** 2) runs on complex ones without extending the
        # rule to them: neither convention, and not the claim "supports complex" a wrong number would be.
        raise NotSupported("complex", "its complex updates follow neither complex extension of the rule (optax's "
                           "|g|^2 statistics, the real view of torch.optim): they leave the gradient's phase, as "
                           "g * g does where the rule squares the modulus, |g|^2 = (conj(g) g).real "
                           "(optax.numerics.abs_sq)")
    cmp = judge(got, expected, paths, rtol_c, floor)
    message = cmp.describe("e^(i theta) x the float64 oracle's update for r_t") + "; nor the real-view convention"
    raise failure(candidate, "complex", what, message)
