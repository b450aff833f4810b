"""Sharded parameters: updates equal the unsharded run; state follows the parameters' sharding."""

import warnings

import pytest

from pytest_optim.outcomes import NotApplicable
from pytest_optim.conformance.capabilities import NotSupported
from pytest_optim.conformance.checks import Result, failure
from pytest_optim.conformance.sharding import run_subprocess

pytestmark = [pytest.mark.optim_family("sharding"), pytest.mark.optim_capability("sharding")]


def test_sharded_parameters_on_4_devices(optim_candidate, optim_record):
    if not optim_candidate.traceable:  # known without starting the subprocess
        raise NotSupported("sharding", f"{optim_candidate.label} is {optim_candidate.style} code: JAX cannot "
                                       "trace it, so it cannot run sharded")
    out = run_subprocess(optim_candidate.label, optim_candidate.reference, n_devices=4,
                         settings=optim_candidate.settings, hp=dict(optim_candidate.spec.compared_hp))
    if out["passed"] is None and out.get("unsupported"):
        raise NotSupported("sharding", out["message"])
    if out["passed"] is None:
        raise NotApplicable(out["message"])
    if not out["passed"]:
        raise failure(optim_candidate, "sharding", "parameters sharded over 4 devices", out["message"])
    for message in out.get("warnings", []):
        warnings.warn(f"{optim_candidate.label}: {message}", stacklevel=1)
    optim_record(Result("sharding", True, out.get("worst_ratio"), out["message"], {"warnings": out.get("warnings", [])}))
