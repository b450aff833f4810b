"""A fourth framework through the ``pytest_optim.adapters`` entry-point group, no change to the core.

The "framework" here is a toy (lists of arrays, ``apply(params, grads)`` returning new ones); its
adapter lives in another distribution, found by its entry point alone (a dist-info directory on
sys.path, as pip would install it).
"""

from __future__ import annotations

import textwrap

FRAMEWORK = textwrap.dedent(
    """
    import numpy as np

    class Optimizer:  # the toy framework's base class
        pass

    class ListSGD(Optimizer):
        def __init__(self, rate=0.01):
            self.rate = rate

        def apply(self, params, grads):
            return [p - self.rate * g for p, g in zip(params, grads)]
    """
)
ADAPTER = textwrap.dedent(
    """
    import sys

    from pytest_optim import Adapter, UsageError, numpy_optimizer

    def recognises(obj):
        toy = sys.modules.get("toyframework")  # never imports the framework itself
        return toy is not None and isinstance(obj, type) and issubclass(obj, toy.Optimizer)

    def wrap(label, cls, spec, settings):
        if spec.name != "sgd":
            raise UsageError(f"--optim={label}: the toy framework only has SGD")
        return numpy_optimizer(cls, rename={"learning_rate": "rate"}, method="apply")

    ADAPTER = Adapter("toy", "ToyFramework", recognises, wrap, traceable=False, observed="parameters")
    NOT_AN_ADAPTER = object()
    """
)


def _install(pytester, target: str) -> None:
    pytester.makepyfile(toyframework=FRAMEWORK, toy_adapter=ADAPTER)
    dist = pytester.path / "pytest_optim_toy-0.1.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pytest-optim-toy\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[pytest_optim.adapters]\ntoy = {target}\n")


def test_entry_point_adapter_drives_its_framework(pytester):
    _install(pytester, "toy_adapter:ADAPTER")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", "--optim=toyframework:ListSGD", "--optim-reference=sgd",
        "-k", "test_matches_oracle or test_jit_matches_eager", "-W", "ignore")
    out = result.stdout.str()
    assert result.ret == 0, out + result.stderr.str()
    assert "toyframework:ListSGD: PASS (13 passed" in out, out
    assert "is ToyFramework code: JAX cannot trace it" in out, out


def test_entry_point_adapter_refusal_and_bad_entry_point_are_one_line(pytester):
    _install(pytester, "toy_adapter:ADAPTER")
    refused = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--optim=toyframework:ListSGD",
                                            "--optim-reference=adam")
    assert refused.ret == 4 and "the toy framework only has SGD" in refused.stderr.str(), refused.stderr.str()
    _install(pytester, "toy_adapter:NOT_AN_ADAPTER")
    bad = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--optim=toyframework:ListSGD",
                                        "--optim-reference=sgd")
    err = bad.stderr.str()
    assert bad.ret == 4 and "toy = 'toy_adapter:NOT_AN_ADAPTER' is a object, not a pytest_optim.Adapter" in err, err
    assert "Traceback" not in err
