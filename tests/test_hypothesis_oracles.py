"""Property-based: the bundled optimizers against their float64 oracles on random inputs.

Random pytrees (nesting, leaf shapes including scalars and zero-size), dtypes (float32, float64),
hyperparameters within the documented ranges below, and gradients spanning 12 orders of
magnitude. Tolerance: the same derived bound as the suites (pytest_optim/conformance/tolerance.py).

Hypothesis draws from ``--optim-seed`` (``hypothesis.seed``): a run is reproduced by its seed,
and another seed explores other inputs (15 examples per optimizer and run, as before).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_optim.conformance import tolerance
from pytest_optim.conformance.compare import compare_updates, oracle_updates
from pytest_optim.conformance.runner import leaf_paths, replay
from pytest_optim.specs import SPECS

shapes = st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple)
trees = st.recursive(
    shapes,
    lambda children: st.one_of(
        st.dictionaries(st.sampled_from("abcd"), children, min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=3).map(tuple),
    ),
    max_leaves=5,
)


def _is_shape(x):
    return isinstance(x, tuple) and all(isinstance(i, int) for i in x)


@pytest.mark.parametrize("name", list(SPECS))
def test_bundled_matches_oracle_on_random_inputs(name, optim_seed):
    jax.config.update("jax_enable_x64", True)

    @hypothesis.seed(optim_seed)
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def matches_oracle(data):
        _check_random_inputs(name, data)

    matches_oracle()


def _check_random_inputs(name, data):
    spec = SPECS[name]
    hp = {k: data.draw(st.floats(*spec.ranges[k]), label=k) for k in spec.defaults}  # the record's documented ranges
    lr = data.draw(st.floats(1e-4, 1.0), label="learning_rate")
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    layout = data.draw(trees, label="tree")
    scale = 10.0 ** data.draw(st.integers(-6, 6), label="log10 gradient scale")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    _check(name, hp, lr, dtype, layout, scale, seed)


# Examples hypothesis found, kept: each failed once, for the reason its comment gives (now covered).
FOUND = [
    # AdaBelief at b1 = 8e-6: m is within float32's rounding of g, so the belief g - m cancels (its
    # rounding is 0.5% of it) and moves the denominator by 3.5e-6 relative; the oracle's spread for
    # the cancellation covers it (specs/adabelief.py), the plain relative model (2e-6) did not.
    ("adabelief", dict(b1=8e-6, b2=0.5, eps=0.0625, eps_root=0.0), 1.0, "float32", (), 10.0, 0),
]


@pytest.mark.parametrize("name, hp, lr, dtype, layout, scale, seed", FOUND, ids=[f[0] for f in FOUND])
def test_bundled_matches_oracle_where_hypothesis_found_a_gap(name, hp, lr, dtype, layout, scale, seed):
    jax.config.update("jax_enable_x64", True)
    _check(name, hp, lr, dtype, layout, scale, seed)


def _check(name, hp, lr, dtype, layout, scale, seed):
    spec = SPECS[name]
    rng = np.random.default_rng(seed)
    leaves, treedef = jax.tree.flatten(layout, is_leaf=_is_shape)
    steps = 4
    grads = [jax.tree.unflatten(treedef, [jnp.asarray(scale * rng.standard_normal(s), dtype) for s in leaves])
             for _ in range(steps)]
    params = jax.tree.map(jnp.zeros_like, grads[0])
    got, _ = replay(name, spec.load_implementation()(lr, **hp), grads, params)
    g_np = [[np.asarray(x, np.float64) for x in jax.tree.leaves(g)] for g in grads]
    full = {**spec.defaults, **hp}
    before, p = [], [np.zeros_like(x) for x in g_np[0]]  # rules with weight decay read the parameters
    for u in got:
        before.append(p)
        p = [a + np.asarray(b, np.float64).reshape(a.shape) for a, b in zip(p, u)]
    expected = oracle_updates(spec, full, g_np, [lr] * steps, params=before)
    # the float32 cast of the hyperparameters and lr is part of the rounding budget
    rtol = tolerance.update_rtol(spec, full, dtype, steps)
    cmp = compare_updates(got, expected, leaf_paths(grads[0]), rtol, tolerance.floor(dtype))
    assert cmp.passed, cmp.describe()
