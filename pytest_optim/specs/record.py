"""The spec record: everything the harness knows about one optimizer, in one place.

A spec module (``pytest_optim/specs/adam.py``, or a user's module given to ``--optim-spec``)
defines ``SPEC = Spec(...)``; every check, workload, benchmark and adapter reads what it needs
from that record and from nowhere else. ``tests/test_specs.py`` asserts each record is complete.
Nothing here imports JAX: optax is imported only when ``optax_reference`` is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

DATASETS = ("mnist", "cifar10", "imdb")  # the workloads (suites/test_workloads.py)
STEP_FAMILIES = ("gd", "momentum", "adaptive")  # which of a problem's stable learning rates applies
# What one element's update depends on: its own history only ("element"), a statistic of its whole
# leaf ("leaf": LAMB's trust ratio, an RMS clip), or the leaf as a matrix ("matrix": Muon's
# orthogonalisation, Adafactor's factored moments). Only elementwise rules give a nested tree and
# the same numbers as one flat vector the same updates.
GRANULARITIES = ("element", "leaf", "matrix")


@dataclass(frozen=True)
class Alternative:
    """A known convention that is *not* the canonical one, as an oracle variant."""

    key: str  # stable identifier, e.g. "eps_inside_sqrt"
    label: str  # what a person reads in the failure message
    variant: dict[str, Any]
    seen_in: str = ""  # where this convention comes from


@dataclass(frozen=True)
class FrameworkNames:
    """How one framework's optimizer spells this spec's hyperparameters.

    ``names`` maps optax's keyword to the framework's (a tuple key packs several into one
    argument, ``("b1", "b2"): "betas"``; ``None`` drops a keyword the framework does not have);
    ``fixed`` are constructor settings that select this rule (``nesterov=True``).
    """

    optimizer: str  # "torch.optim.Adam"
    names: Mapping[Any, str | None]
    fixed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tuning:
    """Settings the checks and workloads use for this rule (the reasons are beside each value)."""

    step_family: str  # one of STEP_FAMILIES: the problem's learning rate this rule is stable at
    workload_lr: Mapping[str, float]  # dataset -> learning rate of the CI-sized workload
    thresholds: Mapping[str, float]  # dataset -> test accuracy the CI-sized workload must reach
    full_workload_lr: Mapping[str, float] = field(default_factory=dict)  # --optim-full, where it differs
    full_thresholds: Mapping[str, float] = field(default_factory=dict)
    convergence_lr_scale: float = 1.0  # multiple of the problem's learning rate for the convergence check
    convergence_eps_per_lr_l: float | None = None  # eps = this * lr * L in the convergence check
    rate_steps: int | None = None  # linear-rate check (GD-type rules only): steps to rate^steps ~ 1e-9
    # why the rule provably does not settle at x* at any constant learning rate (sign rules end in a
    # limit cycle of size ~lr): the convergence check is then n/a with this reason
    convergence_na: str = ""


@dataclass(frozen=True)
class Spec:
    name: str
    rule: str  # the update rule in one line, for reports and docs
    paper: str
    defaults: dict[str, float]  # every hyperparameter except learning_rate
    varied: dict[str, float]  # a value away from each default that visibly changes the result
    oracle: type  # the float64 NumPy oracle (a pytest_optim.specs.oracle.Oracle subclass)
    # (hp, lr, g1, g2) -> (u1, u2) by hand; rules with weight decay take p1=, p2= (the parameters
    # before each step, float64), leaf- and matrix-level rules sizes= / shapes= (of the leaves the flat
    # vectors are cut into); None in a port run
    first_two_updates: Callable | None
    optax_builder: Callable | None  # (optax, learning_rate, hp) -> optax's transformation; None in a port run
    optax_call: str  # how the optax reference is built, for people
    implementation: str  # the bundled from-scratch JAX factory, "MODULE:ATTR"
    tuning: Tuning
    ranges: dict[str, tuple[float, float]]  # documented range of each hyperparameter (property tests)
    bytes_per_param: int  # memory traffic of one fused step per float32 parameter (benchmark floor)
    target_x_floor: float  # benchmark target: our step time <= this x the memory-bandwidth floor
    frameworks: dict[str, FrameworkNames | None]  # "torch", "keras": the class and its names, or None
    optax_exact: bool = True
    optax_note: str = ""
    optax_exact_at: dict[str, float] = field(default_factory=dict)  # hp where an inexact optax is the same rule
    adaptive: bool = False  # divides by a gradient statistic: scale invariant as eps -> 0
    decays: tuple[str, ...] = ()  # hyperparameters that are EMA decay rates (tolerance model)
    accumulates: bool = False  # keeps a running *sum* (tolerance grows with the step count)
    granularity: str = "element"  # one of GRANULARITIES
    # roundings per update beyond tolerance.OPS, for rules with more arithmetic than an elementwise
    # expression (a norm or matrix product over n terms adds ~n; the derivation goes beside the value)
    extra_ops: float = 0.0
    # relative error of the rule's scalar coefficients, in units of the scalar roundoff, at hp (a rule
    # whose step-size factor is an ill-conditioned closed form, RAdam's rho_t); None: well conditioned
    scalar_condition: Callable[[Mapping[str, float]], float] | None = None
    # the memory 1/(1 - beta_t) of a step-dependent EMA decay at hp after ``steps`` steps (Adafactor's
    # beta2_t = 1 - t^-c), for the tolerance model as ``decays`` gives constant decays theirs
    decay_memory: Callable[[Mapping[str, float], int], float] | None = None
    # hyperparameters at which the rule is exactly invariant to scaling the gradients (checked only
    # for ``adaptive`` rules); None: every eps-like hyperparameter of the record set to 0
    scale_free: Mapping[str, float] | None = None
    # How the rule extends to complex parameters (composition.complex_parameters): "linear" (the
    # update of a complex leaf is the update of its real view: sgd, momentum), "modulus" (statistics
    # of |g|^2 = g conj(g), as optax: the update keeps the gradient's phase), or None (not defined).
    complex_rule: str | None = None
    alternatives: tuple[Alternative, ...] = ()
    # conventions that are the same rule for a constant learning rate but differ under schedules;
    # a candidate matching one of them passes the schedule checks, with a note
    schedule_equivalents: tuple[Alternative, ...] = ()
    # A port run (--optim-reference=MODULE:ATTR): the implementation this record's oracle drives, and
    # whether its updates are observed in its parameters (new - old, in float64). Empty for a spec.
    compared_with: str = ""
    compared_in_place: bool = False
    compared_hp: Mapping[str, float] = field(default_factory=dict)  # its --optim-hp, as given

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        return ("learning_rate", *self.defaults)

    def optax_reference(self, learning_rate, **hp):
        """The optax transformation of the same rule."""
        import optax

        return self.optax_builder(optax, learning_rate, {**self.defaults, **hp})

    def load_implementation(self) -> Callable:
        """The bundled factory named by ``implementation`` (imports it, and with it JAX)."""
        import importlib

        module, _, attr = self.implementation.partition(":")
        return getattr(importlib.import_module(module), attr)

    def oracle_for(self, hp: Mapping[str, float], variant: Mapping[str, Any] | None = None):
        """A fresh float64 oracle at ``hp`` (the spec's defaults filled in)."""
        full = {k: float(v) for k, v in {**self.defaults, **hp}.items() if k != "learning_rate"}
        return self.oracle(hp=full, variant=dict(variant or {}))


def resolve_variant(spec: Spec, hp: dict[str, float], variant: dict[str, Any]) -> dict[str, Any]:
    """Variants may refer to hyperparameters by name (dampening = 'momentum')."""
    return {k: hp[v] if isinstance(v, str) and v in hp else v for k, v in variant.items()}
