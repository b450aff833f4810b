"""Optional capabilities: what a candidate may support beyond the mathematics of its spec.

"Implements <spec>" rests on the mathematics (oracle, analytic answers, hyperparameters honoured,
optax, convergence, zero gradients, the dtype policy). Everything listed here is optional: most
optimizers written outside optax take a constant learning rate, NumPy and in-place code cannot be
traced, and so on. A capability is *detected*: a candidate that refuses the input (raises when it is
built or updated with it, while the same call without it works) gets the capability reported as
"not supported" with the reason, counted n/a, and its verdict is unaffected. A candidate that accepts
the input and computes the wrong numbers fails, exactly as any other check.

``--optim-require=CAP[,CAP...]`` (ini ``optim_require``) turns "not supported" into a failure, for
libraries that promise optax compatibility. This module imports nothing heavy.
"""

from __future__ import annotations

from pytest_optim.outcomes import NotApplicable, UsageError

# name -> what the candidate is given when the capability is checked
CAPABILITIES: dict[str, str] = {
    "schedules": "a learning-rate schedule (a function of the step count) as learning_rate",
    "array_hyperparameters": "hyperparameters given as jnp arrays",
    "traced_hyperparameters": "hyperparameters traced inside jax.jit",
    "jit": "update under jax.jit",
    "vmap": "init and update under jax.vmap",
    "scan": "update inside jax.lax.scan",
    "sharding": "parameters sharded over several devices",
    "inject_hyperparams": "the factory wrapped by optax.inject_hyperparams (hyperparameters as traced arrays in "
                          "the state), under jax.jit",
    "multi_steps": "wrapped by optax.MultiSteps (gradient accumulation: the update inside lax.cond, the state "
                   "selected with jnp.where)",
    "complex": "complex parameters and gradients (complex128 leaves)",
}
NAMES: tuple[str, ...] = tuple(CAPABILITIES)


class NotSupported(NotApplicable):
    """The candidate refuses an optional input: the capability is reported as not supported."""

    def __init__(self, capability: str, reason: str):
        assert capability in CAPABILITIES, capability
        self.capability = capability
        self.reason = reason
        super().__init__(f"{capability}: not supported ({reason})")


def parse_required(value: str | None) -> frozenset[str]:
    """The --optim-require value as a set of capability names (UsageError when unknown)."""
    if value is None or not value.strip():
        return frozenset()
    names = [v.strip() for v in value.split(",") if v.strip()]
    if "all" in names:
        return frozenset(NAMES)
    unknown = [n for n in names if n not in CAPABILITIES]
    if unknown:
        raise UsageError(
            f"--optim-require: unknown capabilit{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
            f"choose from {', '.join(NAMES)}, or all"
        )
    return frozenset(names)


def cause(exc: BaseException) -> str:
    """``Type: message`` of the exception the candidate raised (not the harness's wrapper)."""
    inner = exc.__cause__ or exc
    text = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {text[0] if text else ''}"
