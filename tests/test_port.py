"""A port against its original (--optim-reference=MODULE:ATTR, --optim-hp): both directions, JAX and torch.

The ports below are written as people write them: a from-scratch JAX Adam with a constant float
learning rate and ``**kwargs`` that swallow names; one with a wrong eps; a heavy-ball port of a
class no record names (torch.optim.SGD with momentum: both the sgd and momentum records name it,
so the run uses --optim-hp's names as given). Each session runs the oracle family only: the
comparison step by step is what a port run changes; every other family is the same code as in a
spec run (tests/test_mutants.py runs them all).
"""

from __future__ import annotations

import re
import textwrap

import pytest

pytest.importorskip("torch")

PORTS = textwrap.dedent(
    """
    import jax, jax.numpy as jnp

    class _T:
        def __init__(self, init, update):
            self.init, self.update = init, update

    def adam(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, **kwargs):
        def init(params):
            z = jax.tree.map(jnp.zeros_like, params)
            return (jnp.zeros([], jnp.int32), z, z)

        def update(grads, state, params=None):
            t, m, v = state
            t = t + 1
            m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
            v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)

            def step(m, v):  # in at least float32: 0.999 is 1.0 in bfloat16
                dt = jnp.promote_types(m.dtype, jnp.float32)
                mh = m.astype(dt) / (1 - b1 ** t.astype(dt))
                vh = v.astype(dt) / (1 - b2 ** t.astype(dt))
                return (-learning_rate * mh / (jnp.sqrt(vh) + eps)).astype(m.dtype)

            return jax.tree.map(step, m, v), (t, m, v)

        return _T(init, update)

    def adam_eps_typo(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, **kwargs):
        return adam(learning_rate, b1, b2, eps * 1e4)

    def heavy_ball(learning_rate=0.1, momentum=0.0, **kwargs):  # torch.optim.SGD's form: v = mu v + g
        def init(params):
            return jax.tree.map(jnp.zeros_like, params)

        def update(grads, state, params=None):
            v = jax.tree.map(lambda v, g: momentum * v + g, state, grads)
            return jax.tree.map(lambda v: (-learning_rate * v).astype(v.dtype), v), v

        return _T(init, update)

    READY = adam(0.01)
    """
)
DIVERGES = re.compile(r"first diverging step \d+ of \d+, leaf \S+")


def _run(pytester, candidates: str, reference: str, hp: str):
    pytester.makepyfile(ports=PORTS)
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", f"--optim={candidates}", f"--optim-reference={reference}",
        f"--optim-hp={hp}", "-k", "test_matches_oracle", "-W", "ignore")


def test_jax_port_against_torch(pytester):
    result = _run(pytester, "ports:adam,ports:adam_eps_typo", "torch.optim:Adam", "b1=0.9")
    out = result.stdout.str()
    assert result.ret == 1, out
    assert "ports:adam: PASS (13 passed" in out, out
    assert "ports:adam_eps_typo: FAIL" in out, out
    typo = [line for line in out.splitlines() if line.startswith("FAILED") and "adam_eps_typo" in line]
    assert len(typo) >= 10 and not [line for line in out.splitlines()
                                    if line.startswith("FAILED") and "ports:adam-" in line], out
    assert DIVERGES.search(out) and "the reference torch.optim:Adam (run in float64) says" in out, out


def test_torch_against_jax_port(pytester):
    good = _run(pytester, "torch.optim:Adam", "ports:adam", "b1=0.9")
    assert good.ret == 0, good.stdout.str()
    assert "torch.optim:Adam: PASS (13 passed" in good.stdout.str()
    bad = _run(pytester, "torch.optim:Adam", "ports:adam_eps_typo", "b1=0.9")
    out = bad.stdout.str()
    assert bad.ret == 1 and "torch.optim:Adam: FAIL" in out, out
    assert DIVERGES.search(out) and "the reference ports:adam_eps_typo (run in float64) says" in out, out


def test_port_of_a_class_no_record_names(pytester):
    """torch.optim.SGD is named by two records: the names are --optim-hp's, as given to both sides."""
    result = _run(pytester, "ports:heavy_ball", "torch.optim:SGD", "momentum=0.9")
    assert result.ret == 0, result.stdout.str()
    assert "ports:heavy_ball: PASS (13 passed" in result.stdout.str()
    # the port's **kwargs swallows dampening, which torch honours: every comparison shows it
    swallowed = _run(pytester, "ports:heavy_ball", "torch.optim:SGD", "momentum=0.9,dampening=0.5")
    out = swallowed.stdout.str()
    assert swallowed.ret == 1 and "ports:heavy_ball: FAIL (0 passed, 13 failed" in out, out
    assert DIVERGES.search(out), out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--optim=ports:adam", "--optim-reference=nomodule:Adam"],
         "--optim-reference=nomodule:Adam: cannot import module 'nomodule'"),
        (["--optim=ports:adam", "--optim-reference=ports:nothing"],
         "--optim-reference=ports:nothing: module 'ports' has no attribute 'nothing'"),
        (["--optim=ports:adam", "--optim-reference=torch.optim:Adam", "--optim-hp=betas=0.9"],
         "betas is not a hyperparameter of the adam spec"),
        (["--optim=ports:adam", "--optim-reference=torch.optim:Adam", "--optim-hp=learning_rate=0.1"],
         "learning_rate is not a setting of a port run"),
        (["--optim=ports:adam", "--optim-reference=torch.optim:Adam", "--optim-hp=b1"], "'b1' is not name=value"),
        (["--optim=ports:adam", "--optim-reference=adam", "--optim-hp=b1=0.9"], "--optim-hp applies to a port run"),
        (["--optim=ports:adam", "--optim-reference=torch.optim:Adam@adam_w"], "'adam_w' is not a canonical spec"),
        (["--optim=ports:adam", "--optim-reference=ports:READY"], "--optim-reference=ports:READY is a ready-made"),
    ],
    ids=["reference-not-importable", "reference-no-attribute", "hp-unknown-name", "hp-learning-rate", "hp-malformed",
         "hp-without-port", "reference-unknown-spec", "reference-ready-made"],
)
def test_port_misuse_is_one_line_before_anything_runs(pytester, args, message):
    pytester.makepyfile(ports=PORTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    err = result.stderr.str()
    assert result.ret == 4, err
    assert message in err, err
    assert "Traceback" not in err + result.stdout.str()


def test_a_reference_class_is_known_by_the_record_that_names_it():
    """torch and Keras classes live under private module paths; records name them by the public one."""
    import torch.optim

    from pytest_optim.specs import SPECS
    from pytest_optim.specs.reference import framework_spec

    assert framework_spec(torch.optim.Adam, SPECS).name == "adam"
    assert framework_spec(torch.optim.SGD, SPECS) is None  # named by both the sgd and momentum records
    keras = pytest.importorskip("keras")
    assert keras.optimizers.Adam.__module__.startswith("keras.src.")
    assert framework_spec(keras.optimizers.Adam, SPECS).name == "adam"
    assert framework_spec(keras.optimizers.RMSprop, SPECS).name == "rmsprop"
    assert framework_spec(object, SPECS) is None
