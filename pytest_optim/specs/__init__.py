"""Canonical specs: one record per optimizer, one module per record.

Each module here (and any module given to ``--optim-spec``) defines ``SPEC``, a
:class:`~pytest_optim.specs.record.Spec` that holds everything about its optimizer: the
hyperparameters and defaults, the float64 oracle of the paper's rule, the first two steps by hand,
the optax reference, the known alternative conventions, the tuning of the checks and workloads,
the property-test ranges, the benchmark's bytes per parameter and each framework's keyword names.
Adding an optimizer is one module here plus its bundled implementation in ``optimizers/``.
This package imports NumPy, never JAX.
"""

from __future__ import annotations

import importlib

from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning, resolve_variant

BUILTIN: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamax", "nadam",
                            "adabelief", "adamw", "amsgrad", "radam", "lion", "signum", "lamb", "adadelta",
                            "adafactor", "muon")
SPECS: dict[str, Spec] = {}
LOADED: list[str] = []  # modules loaded beyond the built-in ones (--optim-spec), in order


class SpecError(Exception):
    """A spec module that cannot be loaded or whose record is incomplete (one line for a person)."""


def register(spec: Spec) -> Spec:
    """Add a record to the registry (a second record under the same name is an error)."""
    if not isinstance(spec, Spec):
        raise SpecError(f"expected a pytest_optim.specs.Spec, got {type(spec).__name__}")
    known = SPECS.get(spec.name)
    if known is not None and known is not spec:
        raise SpecError(f"a spec named {spec.name!r} is already registered")
    SPECS[spec.name] = spec
    return spec


def load_module(module_name: str) -> Spec:
    """Import ``module_name`` and register its ``SPEC``."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - a user's module is arbitrary code
        raise SpecError(f"--optim-spec={module_name}: importing it raised {type(exc).__name__}: {exc}") from None
    spec = getattr(module, "SPEC", None)
    if spec is None:
        raise SpecError(f"--optim-spec={module_name}: the module defines no SPEC (a pytest_optim.specs.Spec)")
    try:
        register(spec)
    except SpecError as exc:
        raise SpecError(f"--optim-spec={module_name}: {exc}") from None
    if module_name not in LOADED and not module_name.startswith("pytest_optim.specs."):
        LOADED.append(module_name)
    return spec


def unregister_loaded(modules: list[str]):
    """A cleanup that forgets what loading ``modules`` registers (the specs present now are kept)."""
    known, loaded = dict(SPECS), list(LOADED)

    def cleanup() -> None:
        for name in [n for n in SPECS if n not in known]:
            del SPECS[name]
        LOADED[:] = loaded

    return cleanup


def names() -> tuple[str, ...]:
    """The registered spec names, bundled ones first."""
    return tuple(SPECS)


for _name in BUILTIN:
    load_module(f"pytest_optim.specs.{_name}")

__all__ = ["Alternative", "BUILTIN", "FrameworkNames", "LOADED", "SPECS", "Spec", "SpecError", "Tuning", "load_module",
           "names", "register", "resolve_variant"]
