"""Properties every implementation of the canonical rule must have, whatever its style."""

import pytest

from pytest_optim.conformance import properties as P
from pytest_optim.conformance.checks import Regime, oracle_check
from pytest_optim.specs import SPECS

# Every hyperparameter honoured: each varied away from its default, one at a time, must move the
# trajectory exactly as the oracle says (an ignored value leaves the default's trajectory).
VARIED = sorted({(name, value) for spec in SPECS.values() for name, value in spec.varied.items()})


@pytest.mark.optim_family("hyperparameters")
@pytest.mark.optim_applies(lambda candidate, params: params["name"] in candidate.spec.defaults)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,value", VARIED, ids=[f"{n}={v:g}" for n, v in VARIED])
def test_hyperparameter_honoured(optim_candidate, name, value, dtype, optim_x64, optim_record):
    optim_x64(dtype)
    optim_record(oracle_check(optim_candidate, Regime("quadratic_k10", dtype, 100, hp=((name, value),)),
                              family="hyperparameters"))


@pytest.mark.optim_family("hyperparameters")
@pytest.mark.parametrize("traced", [
    pytest.param(False, id="arrays", marks=pytest.mark.optim_capability("array_hyperparameters")),
    pytest.param(True, id="traced", marks=pytest.mark.optim_capability("traced_hyperparameters")),
])
def test_hyperparameters_as_arrays(optim_candidate, traced, optim_record):
    optim_record(P.hyperparameters_as_arrays(optim_candidate, traced))


@pytest.mark.optim_family("schedules")
@pytest.mark.optim_capability("schedules")
@pytest.mark.parametrize("schedule", ["warmup_cosine", "step"])
def test_learning_rate_schedule(optim_candidate, schedule, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(oracle_check(optim_candidate, Regime("quadratic_k10", "float64", 60, schedule=schedule),
                              family="schedules"))


@pytest.mark.optim_family("pytree")
def test_nested_tree_equals_flat_vector(optim_candidate, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(P.pytree_invariance(optim_candidate))


@pytest.mark.optim_family("pytree")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_size_and_scalar_leaves(optim_candidate, dtype, optim_x64, optim_record):
    optim_x64(dtype)
    optim_record(P.zero_size_and_scalar_leaves(optim_candidate, dtype))


@pytest.mark.optim_family("equivariance")
def test_permutation_equivariance(optim_candidate, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(P.permutation_equivariance(optim_candidate))


@pytest.mark.optim_family("invariance")
@pytest.mark.optim_specs(*[n for n, s in SPECS.items() if s.adaptive])
@pytest.mark.parametrize("factor", [1e-3, 1e3])
def test_gradient_scale_invariance(optim_candidate, factor, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(P.gradient_scale_invariance(optim_candidate, factor))


@pytest.mark.optim_family("dtype")
def test_dtypes_preserved(optim_candidate, optim_record):
    optim_record(P.mixed_dtypes(optim_candidate))


@pytest.mark.optim_family("robustness")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_gradients(optim_candidate, dtype, optim_x64, optim_record):
    optim_x64(dtype)
    optim_record(P.zero_gradients(optim_candidate, dtype))


@pytest.mark.optim_family("purity")
def test_pure(optim_candidate, optim_record):
    optim_record(P.purity(optim_candidate))


@pytest.mark.optim_family("tracing")
@pytest.mark.optim_capability("jit")
def test_jit_matches_eager(optim_candidate, optim_record):
    optim_record(P.jit_matches_eager(optim_candidate))


@pytest.mark.optim_family("tracing")
@pytest.mark.optim_capability("vmap")
def test_vmap_matches_loop(optim_candidate, optim_record):
    optim_record(P.vmap_matches_loop(optim_candidate))


@pytest.mark.optim_family("tracing")
@pytest.mark.optim_capability("scan")
def test_scan_matches_eager(optim_candidate, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(P.scan_matches_eager(optim_candidate))


@pytest.mark.optim_family("tracing")
@pytest.mark.optim_capability("jit")
def test_no_recompilation(optim_candidate, optim_record):
    optim_record(P.no_recompilation(optim_candidate))
