"""The verdict rules on synthetic data: parameter-space judging, below-resolution n/a, and a
diagnosis only where it distinguishes. (End-to-end candidates for each rule: tests/candidates/.)"""

import numpy as np
import pytest

from pytest_optim.conformance import tolerance
from pytest_optim.conformance.compare import BelowResolution, diagnose, judge, oracle_updates
from pytest_optim.conformance.runner import resolution
from pytest_optim.specs import SPECS

RNG = np.random.default_rng(0)


def _in_place(p0: np.ndarray, updates: list[np.ndarray], dtype) -> tuple[list, list]:
    """What a candidate that writes p in place shows: (new - old) per step, and the parameters."""
    p = p0.astype(dtype)
    seen, params = [], [[p.astype(np.float64)]]
    for u in updates:
        new = (p + u.astype(dtype)).astype(dtype)  # the in-place write rounds to the parameter's dtype
        seen.append([new.astype(np.float64) - p.astype(np.float64)])  # exact in float64
        params.append([new.astype(np.float64)])
        p = new
    return seen, params


def _rtol(steps=20, dtype="float32"):
    return tolerance.update_rtol(SPECS["sgd"], {}, dtype, steps)


def test_in_place_update_passes_in_parameter_space_only():
    expected = [[1e-4 * RNG.standard_normal(50)] for _ in range(20)]
    got, params = _in_place(np.ones(50), [e[0] for e in expected], np.float32)
    res = resolution(params, ["float32"])
    rtol, floor = _rtol(), tolerance.floor("float32")
    assert not judge(got, expected, ["x"], rtol, floor).passed  # held to the update's own rounding: fails
    cmp = judge(got, expected, ["x"], rtol, floor, res)
    assert cmp.passed and cmp.in_parameters and cmp.resolved > 0.95  # a few draws are tiny
    assert "judged on the parameters" in cmp.describe()


def test_exactly_observed_update_keeps_the_tight_tolerance():
    expected = [[1e-4 * RNG.standard_normal(50)] for _ in range(20)]
    got = [[e[0] * (1 + 1e-5)] for e in expected]  # 10x the float32 rtol, far below u |p| = 6e-8
    _, params = _in_place(np.ones(50), [e[0] for e in expected], np.float32)
    res = resolution(params, ["float32"])
    # a relative error of 1e-5 of an update 1e-4 |p| is 1e-9 |p|: below the parameters' rounding, so
    # in the parameters it is invisible and the verdict is a pass there, with the note
    cmp = judge(got, expected, ["x"], _rtol(), tolerance.floor("float32"), res)
    assert cmp.passed and cmp.in_parameters
    # with parameters at 0 there is no rounding of p to hide behind: the tight tolerance decides
    zero = resolution([[np.zeros(50)]] * 21, ["float32"])
    assert not judge(got, expected, ["x"], _rtol(), tolerance.floor("float32"), zero).passed


def test_update_below_the_parameters_resolution_is_not_a_pass():
    expected = [[1e-9 * RNG.standard_normal(50)] for _ in range(20)]  # below ulp(1) / 2 in float32
    got, params = _in_place(np.ones(50), [e[0] for e in expected], np.float32)
    assert all(not np.any(g[0]) for g in got)  # the parameters never moved
    with pytest.raises(BelowResolution, match="update below the resolution of the parameters"):
        judge(got, expected, ["x"], _rtol(), tolerance.floor("float32"), resolution(params, ["float32"]))


def test_visible_error_of_an_in_place_candidate_fails():
    expected = [[1e-3 * RNG.standard_normal(50)] for _ in range(20)]
    got, params = _in_place(np.ones(50), [1.01 * e[0] for e in expected], np.float32)  # lr 1 % off
    cmp = judge(got, expected, ["x"], _rtol(), tolerance.floor("float32"), resolution(params, ["float32"]))
    assert not cmp.passed and cmp.first_step == 1
    assert "plus the parameter's rounding" in cmp.describe()


def _adam_case(scale: float, steps: int = 30):
    spec = SPECS["adam"]
    hp = dict(spec.defaults)
    grads = [[scale * RNG.standard_normal(40)] for _ in range(steps)]
    lrs = [1e-2] * steps
    return spec, hp, grads, lrs


def _alt(spec, key):
    return next(a for a in spec.alternatives if a.key == key)


def test_convention_named_where_it_distinguishes():
    spec, hp, grads, lrs = _adam_case(1e-7)  # tiny gradients: eps placement is visible
    got = oracle_updates(spec, hp, grads, lrs, _alt(spec, "eps_hat").variant)
    canonical = oracle_updates(spec, hp, grads, lrs)
    rtol = tolerance.update_rtol(spec, hp, "float64", len(grads))
    assert not judge(got, canonical, ["x"], rtol, tolerance.floor("float64")).passed
    named = diagnose(spec, hp, grads, lrs, got, ["x"], rtol, tolerance.floor("float64"))
    assert named and "[eps_hat]" in named[0] and len(named) <= 2


def test_no_convention_named_where_none_distinguishes():
    spec, hp, grads, lrs = _adam_case(1.0)  # O(1) gradients: eps, eps-hat, eps inside are all the same rule
    canonical = oracle_updates(spec, hp, grads, lrs)
    got = [[u[0] * 1.001] for u in canonical]  # a bug no convention explains: lr 0.1 % off
    rtol = tolerance.update_rtol(spec, hp, "float64", len(grads))
    assert diagnose(spec, hp, grads, lrs, got, ["x"], rtol, tolerance.floor("float64")) == []
    # and in a coarse dtype the eps conventions cannot be told apart from the spec at all
    rtol16 = tolerance.update_rtol(spec, hp, "bfloat16", len(grads))
    eps_hat = oracle_updates(spec, hp, grads, lrs, _alt(spec, "eps_hat").variant)
    assert diagnose(spec, hp, grads, lrs, eps_hat, ["x"], rtol16, tolerance.floor("bfloat16")) == []
