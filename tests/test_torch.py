"""PyTorch optimizers as they are: recognised, driven, and every misuse one clear start-up message.

The verdicts on torch.optim's own classes (SGD, Adagrad, RMSprop, Adam with foreach on and off,
Adamax pass; NAdam fails naming torch_nadam and nothing else) are part of the mutation score
(tests/candidates/manifest.py, tests/test_mutants.py), which runs them through the CLI.
"""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("torch")

USER = textwrap.dedent(
    """
    import torch

    class Rejecting(torch.optim.Optimizer):  # an Adam-like class without eps
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999)):
            super().__init__(params, dict(lr=lr, betas=betas))

        def step(self, closure=None):
            pass

    class Raising(torch.optim.SGD):
        def step(self, closure=None):
            raise RuntimeError("boom")

    class NotAnOptimizer:
        def __init__(self, lr):
            self.lr = lr
    """
)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--optim=mine:Rejecting", "--optim-reference=adam"], "mine.Rejecting takes no 'eps' (it takes lr, betas)"),
        (["--optim=mine:Raising", "--optim-reference=sgd"], "one step of mine.Raising with the sgd spec's defaults "
                                                            "on 3 float32 parameters raised RuntimeError: boom"),
        (["--optim=mine:NotAnOptimizer", "--optim-reference=sgd"], "is a class that is neither a torch.optim.Optimizer"),
        (["--optim=torch.optim:Adam", "--optim-reference=adam", '--optim-kwargs={"nosuch": 1}'], "takes no 'nosuch'"),
        (["--optim=torch.optim:Adam", "--optim-reference=adam", "--optim-kwargs=[1]"], "expected a JSON object"),
        (["--optim=torch.optim:Adam", "--optim-reference=adam", "--optim-kwargs={x"], "--optim-kwargs={x: not JSON"),
        (["--optim=torch.optim:Adam@adam_w"], "'adam_w' is not a canonical spec"),
        # torch.optim.Muon takes 2-D parameters only; every spec's problems have 1-D and scalar leaves
        (["--optim=torch.optim:Muon@muon"], "Muon only supports 2D parameters"),
    ],
    ids=["rejects-mapped-keyword", "step-raises", "neither", "rejects-kwargs", "kwargs-not-object", "kwargs-not-json",
         "unknown-spec-suffix", "matrix-only-class"],
)
def test_misuse_is_one_line_before_anything_runs(pytester, args, message):
    pytester.makepyfile(mine=USER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    err = result.stderr.str()
    assert result.ret == 4, err
    assert message in err, err
    assert "Traceback" not in err + result.stdout.str()


def test_optim_kwargs_reach_the_constructor_and_are_judged(pytester):
    """maximize=True (gradient ascent) reaches torch.optim.Adam: the oracle check fails, saying where."""
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--optim=torch.optim:Adam", "--optim-reference=adam", '--optim-kwargs={"maximize": true}',
        "-k", "test_matches_oracle and quadratic_k10-float64")
    out = result.stdout.str()
    assert result.ret == 1, out[-3000:]
    assert "[oracle] torch.optim:Adam (spec adam)" in out, out[-3000:]
    assert "first diverging step 1 of 300" in out and "rel err 2;" in out, out[-3000:]  # the sign flipped
