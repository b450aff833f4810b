"""The composition checks (conformance/composition.py) on candidates written as people write them
(tests/candidates/composition_candidates.py): correct ones in several styles pass, each broken one is
caught by the check meant for it, with a message that names the cause. Direct calls (fast); one
pytester run shows the capability reporting and --optim-require."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import pytest

from pytest_optim.candidates.selection import bundled, load_third_party
from pytest_optim.conformance import composition as C
from pytest_optim.conformance.capabilities import CAPABILITIES, NotSupported
from pytest_optim.outcomes import CheckFailure, NotApplicable

ROOT = Path(__file__).resolve().parent.parent
MOD = "tests.candidates.composition_candidates"

CHECKS = {
    "checkpoint": lambda c: C.checkpoint_round_trip(c, "float32"),
    "inject_hyperparams": C.inject_hyperparams,
    "multi_steps": C.multi_steps,
    "frozen": lambda c: C.frozen_leaves(c, "float32"),
    "zero_gradient_leaves": lambda c: C.zero_gradient_leaves(c, "float32"),
    "complex": C.complex_parameters,
}


@pytest.fixture(scope="module", autouse=True)
def x64():
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _candidate(name: str, spec: str = "adam"):
    if name == "bundled":
        return bundled(spec)
    return load_third_party(name if ":" in name else f"{MOD}:{name}", spec)


def test_capabilities_are_declared():
    for name in ("inject_hyperparams", "multi_steps", "complex"):
        assert name in CAPABILITIES


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("name", ["adam", "optax:adam", "bundled"])
def test_correct_adams_pass(name, check):
    result = CHECKS[check](_candidate(name))
    assert result.passed


@pytest.mark.parametrize("spec", ["sgd", "momentum", "nesterov", "adamax"])
def test_bundled_complex_rules_pass(spec):
    assert C.complex_parameters(bundled(spec)).passed


# (candidate, check, outcome, words the message must contain)
BROKEN = [
    ("adam_python_counter", "checkpoint", CheckFailure, "resumed step 4 differs from the uninterrupted run"),
    ("adam_python_counter", "checkpoint", CheckFailure, "Python step counter"),
    ("adam_object_state", "checkpoint", CheckFailure, "state leaf ['config'] is a HParams, not an array"),
    ("adam_lazy_state", "checkpoint", CheckFailure, "a freshly built transform's init state has leaves"),
    ("adam_float_hparams", "inject_hyperparams", NotSupported, "ConcretizationTypeError"),
    ("adam_array_fallback", "inject_hyperparams", CheckFailure, "the factory's own transform (no inject_hyperparams)"),
    ("adam_lazy_state", "multi_steps", CheckFailure, "the state changes structure after one update"),
    ("adam_python_counter", "multi_steps", CheckFailure, "the candidate's own update on the mean gradient"),
    ("adam_object_state", "multi_steps", NotSupported, "HParams"),
    ("adam_dict_recursion", "frozen", CheckFailure, "optax.MaskedNode()"),
    ("adam_rsqrt", "zero_gradient_leaves", CheckFailure, "non-finite update"),
    ("adam_complex_gsq", "complex", NotSupported, "leave the gradient's phase, as g * g does"),
    ("adam_real_part_sq", "complex", CheckFailure, "nor the real-view convention"),
]


@pytest.mark.parametrize("name,check,outcome,words", BROKEN, ids=[f"{b[0]}-{b[1]}" for b in BROKEN])
def test_broken_candidate_is_caught(name, check, outcome, words):
    with pytest.raises(outcome) as info:
        CHECKS[check](_candidate(name))
    assert words in str(info.value), str(info.value)
    if outcome is CheckFailure:
        assert str(info.value).startswith(f"[{'frozen' if check == 'zero_gradient_leaves' else check}] ")


@pytest.mark.parametrize("name", ["adam_float_hparams", "adam_array_fallback", "adam_complex_gsq", "adam_real_part_sq",
                                  "adam_dict_recursion", "adam_rsqrt"])
def test_each_defect_is_only_where_it_belongs(name):
    """The single-defect candidates survive the checkpoint (their state is sound)."""
    assert C.checkpoint_round_trip(_candidate(name), "float32").passed


def test_complex_is_not_applicable_without_a_recorded_rule():
    from dataclasses import replace

    candidate = _candidate("adam")
    candidate.spec = replace(candidate.spec, complex_rule=None)
    with pytest.raises(NotApplicable, match="records no complex rule"):
        C.complex_parameters(candidate)


def test_ready_made_transform_has_nothing_to_inject_into():
    import optax

    from pytest_optim.candidates.selection import Candidate
    from pytest_optim.specs import SPECS

    candidate = Candidate(label="ready", spec=SPECS["adam"], factory=None, instance=optax.adam(0.1))
    with pytest.raises(NotApplicable, match="no factory for optax.inject_hyperparams"):
        C.inject_hyperparams(candidate)
    assert C.checkpoint_round_trip(candidate, "float32").passed


def test_torch_checkpoint_goes_through_state_dict():
    pytest.importorskip("torch")
    candidate = load_third_party("torch.optim:Adam", "adam")
    result = C.checkpoint_round_trip(candidate, "float32")
    assert result.passed and "state_dict" in result.detail
    with pytest.raises(NotSupported, match="JAX cannot trace it"):
        C.multi_steps(candidate)
    with pytest.raises(NotApplicable, match="real float32/float64 arrays only"):
        C.complex_parameters(candidate)


def test_not_supported_is_reported_and_required_fails(pytester):
    pytester.syspathinsert(ROOT)
    args = [f"--optim={MOD}:adam_float_hparams", "--optim-reference=adam", "--optim-report=r", "-p", "no:randomly",
            "-p", "no:cacheprovider", "-k", "test_inject_hyperparams", str(ROOT / "suites" / "test_composition.py")]
    result = pytester.runpytest_inprocess(*args)
    assert result.ret == 0, result.stdout.str()
    entry = json.loads((pytester.path / "r.json").read_text())["candidates"][f"{MOD}:adam_float_hparams"]
    assert entry["capabilities"]["inject_hyperparams"]["status"] == "not supported"
    result = pytester.runpytest_inprocess(*args, "--optim-require=inject_hyperparams")
    assert result.ret == 1
    assert "inject_hyperparams is required (--optim-require) but not supported" in result.stdout.str()
