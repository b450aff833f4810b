"""pytest-optim: conformance test harness and benchmark for gradient-based optimizers.

Importing this package is cheap (no JAX): the names below load their module on first use, so
the pytest11 plugin can import ``pytest_optim`` at start-up without pulling in JAX, torch or keras.

    from pytest_optim import numpy_optimizer, oracle_check, Regime

    from pytest_optim.conformance import properties
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> (module, attribute or None for the module itself)
_EXPORTS = {
    # wrapping other optimizer styles
    "numpy_optimizer": ("pytest_optim.candidates.numpy_style", "numpy_optimizer"),
    "NumpyFactory": ("pytest_optim.candidates.numpy_style", "NumpyFactory"),
    "Adapter": ("pytest_optim.candidates.adapters", "Adapter"),  # another framework (entry points)
    "UsageError": ("pytest_optim.outcomes", "UsageError"),
    # the checks, callable from your own tests
    "Regime": ("pytest_optim.conformance.checks", "Regime"),
    "Result": ("pytest_optim.conformance.checks", "Result"),
    "oracle_check": ("pytest_optim.conformance.checks", "oracle_check"),
    "optax_check": ("pytest_optim.conformance.checks", "optax_check"),
    "first_steps_check": ("pytest_optim.conformance.checks", "first_steps_check"),
    "closed_form_check": ("pytest_optim.conformance.checks", "closed_form_check"),
    "convergence_check": ("pytest_optim.conformance.checks", "convergence_check"),
    "properties": ("pytest_optim.conformance.properties", None),
    # outcomes
    "CheckFailure": ("pytest_optim.outcomes", "CheckFailure"),
    "NotApplicable": ("pytest_optim.outcomes", "NotApplicable"),
    "NotSupported": ("pytest_optim.conformance.capabilities", "NotSupported"),
    "CAPABILITIES": ("pytest_optim.conformance.capabilities", "CAPABILITIES"),
    # specs, problems, seeding
    "SPECS": ("pytest_optim.specs", "SPECS"),
    "Spec": ("pytest_optim.specs", "Spec"),
    "Alternative": ("pytest_optim.specs", "Alternative"),
    "Tuning": ("pytest_optim.specs", "Tuning"),
    "FrameworkNames": ("pytest_optim.specs", "FrameworkNames"),
    "Oracle": ("pytest_optim.specs.oracle", "Oracle"),
    "problems": ("pytest_optim.conformance.problems", None),
    "seeding": ("pytest_optim.seeding", None),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'pytest_optim' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
