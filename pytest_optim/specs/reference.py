"""A port checked against its original: another implementation in place of the paper's oracle.

``--optim=mine:adam --optim-reference=torch.optim:Adam --optim-hp b1=0.9`` runs every check that
compares with the float64 oracle, but the expected updates come from the reference
implementation, fed the candidate's own gradients and parameters step by step, in float64.
This module builds the record such a run uses (:func:`reference_spec`) and the oracle that
drives the reference (:class:`ImplementationOracle`).

* **Names.** A reference of a spec this harness knows (``torch.optim:Adam@adam``, or a torch /
  Keras class some record names in ``frameworks``) borrows that record's keyword names, tuning
  and tolerance model, so each side gets ``--optim-hp`` under its own names (``b1`` -> ``betas``
  for torch). Without one, the hyperparameters are exactly ``--optim-hp``, passed as given to
  both sides (``learning_rate`` -> ``lr`` for a torch class).
* **What does not apply.** The paper's closed forms, optax and the known alternative
  conventions belong to a spec, not to an implementation: those checks are n/a in a port run.
* **Precision.** The reference runs in float64 whatever the candidate's dtype (JAX references
  inside ``jax.enable_x64``), so in a float32 regime only the candidate's rounding matters; in
  float64 both sides round, and the tolerance adds the reference's own bound (see tolerance.py).

Imports nothing heavy at load (JAX only when the reference is stepped).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from pytest_optim.specs.oracle import Leaves, Oracle
from pytest_optim.specs.record import Spec, Tuning

# Without a record, a hyperparameter in [0.5, 1) is taken for an EMA decay rate in the tolerance
# model (it then allows 3 u min(t, 1/(1 - beta)) per decay, see tolerance.py) and a running sum is
# allowed for (u t): the bound of every rule the records describe, since the rule is unknown.
DECAY_RANGE = (0.5, 1.0)
# Without a record, the problems' "momentum" learning rates: half the gradient-descent limit 1/L on
# the quadratics (stable for GD and heavy ball alike), and small enough for an adaptive rule's
# per-coordinate step of ~lr on every problem.
GENERIC_STEP_FAMILY = "momentum"


def parse_hp(value: str | None) -> dict[str, float]:
    """``--optim-hp name=value,...`` as floats (ValueError with a sentence when malformed)."""
    out: dict[str, float] = {}
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, eq, number = item.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier():
            raise ValueError(f"{item!r} is not name=value (e.g. b1=0.9)")
        try:
            out[name] = float(number)
        except ValueError:
            raise ValueError(f"{item!r}: {number.strip()!r} is not a number") from None
    return out


def framework_spec(obj: Any, specs: dict[str, Spec]) -> Spec | None:
    """The record whose torch or Keras class ``obj`` is (``torch.optim.Adam`` -> adam), if exactly one.

    A record names the class by its public path (``keras.optimizers.Adam``, defined in
    ``keras.src.optimizers.adam``): that path is looked up among the modules already imported,
    so nothing is imported here and the class is compared by identity.
    """
    import sys

    def named(path: str) -> bool:
        module, _, attr = path.rpartition(".")
        return getattr(sys.modules.get(module), attr, None) is obj

    found = [s for s in specs.values() for names in s.frameworks.values()
             if names is not None and not names.fixed and named(names.optimizer)]
    return found[0] if len(found) == 1 else None


def loading_spec(label: str, base: Spec | None, hp: dict[str, float]) -> Spec:
    """The record both sides are built from: ``base`` at ``hp``, or a bare one holding ``hp``."""
    if base is not None:
        return replace(base, defaults={**base.defaults, **hp})
    return Spec(
        name=label, rule=f"the update rule of {label}", paper="(none: compared with another implementation)",
        defaults=dict(hp), varied={}, oracle=Oracle, first_two_updates=None, optax_builder=None, optax_call="",
        implementation="", tuning=Tuning(step_family=GENERIC_STEP_FAMILY, workload_lr={}, thresholds={}),
        ranges={}, bytes_per_param=0, target_x_floor=0.0, frameworks={},
        decays=tuple(k for k, v in hp.items() if DECAY_RANGE[0] <= v < DECAY_RANGE[1]), accumulates=True,
    )


def reference_spec(label: str, reference, base: Spec | None, hp: dict[str, float]) -> Spec:
    """The record of a port run: ``reference`` (a loaded Candidate) is its oracle."""
    spec = loading_spec(label, base, hp)
    oracle = type("ImplementationOracle", (ImplementationOracle,), {"reference": reference})
    return replace(
        spec, name=label, rule=f"as {label} computes it" + (f" ({base.name} names)" if base else ""),
        oracle=oracle, first_two_updates=None, optax_builder=None, optax_call="", implementation="",
        alternatives=(), schedule_equivalents=(), compared_with=label, compared_in_place=reference.observed == "parameters",
        compared_hp=dict(hp),
    )


@dataclass
class ImplementationOracle(Oracle):
    """The reference implementation as an oracle: float64 inputs in, its update out (float64).

    The learning rate arrives per step; the reference is built with a constant learning rate and,
    the first time the rate changes (a schedule), rebuilt with one that replays the rates seen,
    and re-run over the steps so far. A reference that takes no schedule then fails that check
    with its own error.
    """

    reference: ClassVar[Any] = None  # a pytest_optim Candidate

    def init(self, leaves: Leaves) -> None:
        self._params = self._params0 = [np.zeros(np.shape(x), np.float64) for x in leaves]
        self._lrs: list[float] = []
        self._inputs: list[tuple[Leaves, Leaves]] = []
        self._transform, self._scheduled = None, False

    def step(self, grads: Leaves, lr: float, params: Leaves | None = None) -> Leaves:
        import jax

        self.t += 1
        grads = [np.asarray(g, np.float64) for g in grads]
        params = self._params if params is None else [np.asarray(p, np.float64) for p in params]
        self._lrs.append(float(lr))
        self._inputs.append((grads, params))
        with jax.enable_x64(True):
            if self._transform is None:
                self._build(self._lrs[0])
            elif not self._scheduled and self._lrs[-1] != self._lrs[0]:
                self._build(lambda count: self._lrs[int(count)])
                self._scheduled = True
                for t, (g, p) in enumerate(self._inputs[:-1]):
                    self._update(g, p, t + 1)
            u = self._update(grads, params, self.t)
        self._params = [p + d for p, d in zip(params, u)]
        return u

    def _build(self, learning_rate) -> None:
        from pytest_optim.conformance.runner import call_init

        label = f"the reference {self.reference.label}"
        hp = {k: v for k, v in self.hp.items() if k in self.reference.spec.defaults}
        self._transform = self.reference.make(learning_rate, **hp)
        self._state = call_init(label, self._transform, list(self._params0))

    def _update(self, grads: Leaves, params: Leaves, t: int) -> Leaves:
        from pytest_optim.conformance.runner import call_update

        label = f"the reference {self.reference.label}"
        u, self._state = call_update(label, self._transform, list(grads), self._state, list(params), t, consume=True)
        return [np.asarray(x, np.float64) for x in u]
