"""The spec records: each is complete, consistent with itself, and a new one needs one module.

Completeness is checked field by field, and the parts that can be checked against each other
are: the hand-written first two steps against the oracle, the defaults inside the documented
ranges, every framework keyword map against that framework's real constructor (when installed).
"""

from __future__ import annotations

import inspect
import json
import textwrap

import numpy as np
import pytest

from pytest_optim.specs import SPECS, FrameworkNames
from pytest_optim.specs.oracle import Oracle
from pytest_optim.specs.record import DATASETS, GRANULARITIES, STEP_FAMILIES

NAMES = list(SPECS)


@pytest.mark.parametrize("name", NAMES)
def test_record_is_complete(name):
    spec = SPECS[name]
    assert spec.name == name and spec.rule and spec.paper and spec.optax_call
    assert set(spec.varied) == set(spec.defaults), "every hyperparameter needs a value away from its default"
    assert set(spec.ranges) == set(spec.defaults), "every hyperparameter needs a documented range"
    for k, (lo, hi) in spec.ranges.items():
        assert lo <= spec.defaults[k] <= hi, f"default {k}={spec.defaults[k]} outside its range [{lo}, {hi}]"
        assert spec.varied[k] != spec.defaults[k]
    assert set(spec.decays) <= set(spec.defaults) and set(spec.optax_exact_at) <= set(spec.defaults)
    assert spec.optax_exact or (spec.optax_note and spec.optax_exact_at), "an inexact optax needs a note and a setting"
    assert issubclass(spec.oracle, Oracle)
    t = spec.tuning
    assert t.step_family in STEP_FAMILIES
    assert spec.granularity in GRANULARITIES and spec.extra_ops >= 0
    assert set(t.workload_lr) == set(DATASETS) and set(t.thresholds) == set(DATASETS)
    assert all(0.0 < a < 1.0 for a in t.thresholds.values()) and all(lr > 0 for lr in t.workload_lr.values())
    assert spec.bytes_per_param >= 12 and spec.target_x_floor >= 1.0
    assert set(spec.frameworks) == {"torch", "keras"}
    keys = [a.key for a in spec.alternatives + spec.schedule_equivalents]
    assert all(k.isidentifier() for k in keys)


@pytest.mark.parametrize("name", NAMES)
def test_first_two_steps_by_hand_agree_with_the_oracle(name):
    """Two independent writings of the rule (closed form, oracle) at the defaults and varied values."""
    spec = SPECS[name]
    rng = np.random.default_rng(0)
    g1, g2 = rng.standard_normal(6) * 3, rng.standard_normal(6)
    for hp in (spec.defaults, {**spec.defaults, **spec.varied}):
        oracle = spec.oracle_for(hp)
        oracle.init([g1])
        p, got = np.zeros(6), []  # from p = 0, as the analytic check runs the candidate (decay reads p)
        for g in (g1, g2):
            got.append(oracle.step([g], 0.1, [p])[0])
            p = p + got[-1]
        known = inspect.signature(spec.first_two_updates).parameters
        kw = {"p1": np.zeros(6), "p2": got[0]} if {"p1", "p2"} <= set(known) else {}
        want = spec.first_two_updates(hp, 0.1, g1, g2, **kw)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_optax_reference_and_implementation_build(name):
    import optimizers

    spec = SPECS[name]
    assert optimizers.REGISTRY[name] is spec.load_implementation(), "optimizers.REGISTRY and the record disagree"
    for transform in (spec.optax_reference(0.1), spec.load_implementation()(0.1, **spec.defaults)):
        assert callable(transform.init) and callable(transform.update)


def _names_cover(spec, names: FrameworkNames):
    covered = set()
    for key in names.names:
        covered |= set(key) if isinstance(key, tuple) else {key}
    assert covered == set(spec.hyperparameters), f"{names.optimizer}: unmapped {set(spec.hyperparameters) - covered}"


@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("name", NAMES)
def test_framework_names_exist_in_that_framework(name, framework, monkeypatch):
    """Each mapped keyword is a real parameter of the framework's constructor (read from its signature)."""
    spec = SPECS[name]
    names = spec.frameworks[framework]
    if names is None:
        pytest.skip(f"{framework} has no {name}")
    _names_cover(spec, names)
    if framework == "keras":
        monkeypatch.setenv("KERAS_BACKEND", "jax")
    module_name, _, cls_name = names.optimizer.rpartition(".")
    module = pytest.importorskip(module_name)
    params = inspect.signature(getattr(module, cls_name)).parameters
    wanted = [v for v in names.names.values() if v is not None] + list(names.fixed)
    missing = [w for w in wanted if w not in params]
    assert not missing, f"{names.optimizer} takes no {missing} (it takes {list(params)})"


TOY = textwrap.dedent('''
    """A spec this package does not have, with its bundled implementation, in one module."""
    from typing import NamedTuple

    import jax
    import jax.numpy as jnp
    import optax

    from pytest_optim import Oracle, Spec, Tuning


    class GainedSgd(Oracle):
        def _leaf(self, g, s, t, lr, p):
            return -lr * self.hp["gain"] * g, s


    class State(NamedTuple):
        count: jnp.ndarray


    def gained_sgd(learning_rate, gain=0.5):
        def init(params):
            return State(jnp.zeros([], jnp.int32))

        def update(grads, state, params=None):
            lr = learning_rate(state.count) if callable(learning_rate) else learning_rate
            return jax.tree.map(lambda g: (-lr * gain * g).astype(g.dtype), grads), State(state.count + 1)

        return optax.GradientTransformation(init, update)


    SPEC = Spec(
        name="gained_sgd", rule="p <- p - lr*gain*g", paper="(a test)",
        defaults={"gain": 0.5}, varied={"gain": 2.0}, oracle=GainedSgd,
        first_two_updates=lambda hp, lr, g1, g2: (-lr * hp["gain"] * g1, -lr * hp["gain"] * g2),
        optax_builder=lambda optax, lr, hp: optax.chain(optax.scale(hp["gain"]), optax.sgd(lr)),
        optax_call="optax.chain(optax.scale(gain), optax.sgd(lr))",
        implementation="toy_spec:gained_sgd",
        tuning=Tuning(step_family="gd", workload_lr={"mnist": 0.5, "cifar10": 0.2, "imdb": 0.6},
                      thresholds={"mnist": 0.89, "cifar10": 0.27, "imdb": 0.62}),
        ranges={"gain": (0.0, 10.0)}, bytes_per_param=12, target_x_floor=1.05,
        frameworks={"torch": None, "keras": None},
    )
''')


def test_a_new_spec_is_one_module_and_runs_through_every_suite(pytester):
    """--optim-spec=toy_spec: the record and its implementation in one module, no other file edited."""
    pytester.makepyfile(toy_spec=TOY)
    report = pytester.path / "toy"
    result = pytester.runpytest_subprocess("--optim-spec=toy_spec", "--optim=gained_sgd", f"--optim-report={report}",
                                           "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "2")
    out = result.stdout.str()
    assert result.ret == 0, out[-4000:]
    entry = json.loads((pytester.path / "toy.json").read_text())["candidates"]["gained_sgd"]
    assert entry["failed"] == 0 and entry["passed"] > 25, entry
    ran = {fam for fam, row in entry["families"].items() if row["passed"]}
    # every suite that applies to a rule without momentum or closed-form iterates ran and passed
    assert {"oracle", "optax", "analytic", "convergence", "hyperparameters", "schedules", "pytree", "dtype",
            "purity", "tracing", "sharding", "robustness", "equivariance"} <= ran, ran
