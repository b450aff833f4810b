"""Float64 NumPy oracles: the papers' update rules, written independently of any JAX code.

An oracle sees, per step, the gradient leaves (upcast to float64), the learning rate and the
parameter leaves the update will be added to (rules with weight decay need them), and returns the
update to *add* to the parameters. Each spec module subclasses ``Oracle`` with its rule.

``variant`` keywords switch on one known alternative convention (eps inside the sqrt, dampened
momentum, missing bias correction, ...). The canonical rule is the one with no variant; the
alternatives exist so that the diagnoser can say *which* convention a candidate implements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

Leaves = list[np.ndarray]


class Updates(list):
    """The oracle's updates, one list of leaves per step, and the allowances beyond the relative
    rounding model a rule reports: where it takes sign(x), per step and leaf ``signs[t][i] =
    (margin, flip)`` or None (see ``Oracle.sign``); where it normalises by a norm that cancels,
    ``spreads[t][i]``, the absolute scale (per unit of rtol) the leaf's update is rounded relative to."""

    signs: list | None = None
    spreads: list | None = None
    # matrix-level rules (record granularity "matrix"): a matrix product rounds each element relative to
    # the norm of the whole leaf, not to that element: compare each 2-D leaf on the scale of its largest element
    leaf_scale: bool = False


@dataclass
class Oracle:
    """Base: ``step(grads, lr, params)`` advances the internal float64 state and returns updates.

    Elementwise rules implement ``_leaf(g, state, t, lr, p)`` for one leaf; rules that look at
    a whole leaf at once (a matrix) do the same, and rules that couple leaves override ``step``.
    """

    USES_SIGN: ClassVar[bool] = False  # the rule takes sign() of a computed quantity (see ``sign``)
    # the rule sets ``self.spreads`` (per leaf of the last step): the absolute scale its update is
    # rounded relative to where that exceeds the update itself (a division by a norm that cancels)
    SPREADS: ClassVar[bool] = False

    hp: dict[str, float]
    variant: dict[str, Any] = field(default_factory=dict)
    t: int = 0  # number of updates already made
    signs: list = field(default_factory=list)  # per leaf, of the last step: (margin, flip) or None
    spreads: list = field(default_factory=list)  # per leaf, of the last step: a scale or None

    def init(self, leaves: Leaves) -> None:
        self.state = self._init([np.zeros(np.shape(x), np.float64) for x in leaves])

    def step(self, grads: Leaves, lr: float, params: Leaves | None = None) -> Leaves:
        self.t += 1
        params = params if params is not None else [None] * len(grads)
        self.signs = [None] * len(grads)
        self.spreads = [None] * len(grads)
        out = []
        for i, (g, p) in enumerate(zip(grads, params)):
            g = np.asarray(g, np.float64)
            p = None if p is None else np.asarray(p, np.float64)
            self._leaf_index = i
            u, self.state[i] = self._leaf(g, self.state[i], self.t, lr, p)
            out.append(u)
        return out

    def sign(self, x: np.ndarray, magnitude: np.ndarray, flip) -> np.ndarray:
        """``np.sign(x)`` for a rule whose update takes the sign of a computed quantity (Lion, Signum).

        A candidate computes x with rounding errors relative to ``magnitude`` (the scale x was formed
        from: for an EMA, the largest sum of |terms| it has held), so where |x| is within that
        rounding of 0 its sign may legitimately differ from the exact one. The oracle records
        margin = |x| / magnitude and ``flip`` (how much this leaf's update moves when the sign goes
        from one side to the other: 2 lr for Lion), and the comparison allows ``flip`` wherever
        margin is within the update's own relative tolerance (compare.compare_updates).
        """
        x = np.asarray(x, np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            margin = np.where(magnitude > 0, np.abs(x) / np.where(magnitude > 0, magnitude, 1.0), np.inf)
        self.signs[self._leaf_index] = (margin, np.broadcast_to(np.abs(np.asarray(flip, np.float64)), x.shape))
        return np.sign(x)

    def _init(self, zeros: Leaves) -> list:
        return [None for _ in zeros]

    def _leaf(self, g, s, t, lr, p):  # pragma: no cover - abstract
        raise NotImplementedError


def stat(x: np.ndarray, variant: dict) -> np.ndarray:
    """Elementwise statistic, or (a bug) its mean over the whole leaf."""
    if variant.get("global_statistics"):
        return np.full_like(x, x.mean() if x.size else 0.0)
    return x


def correction(beta: float, t: int, variant: dict, which: str) -> float:
    """1 - beta**t, or one of the known mistakes (none, off by one for one or both moments)."""
    if variant.get(f"no_bias_correction_{which}") or variant.get("no_bias_correction"):
        return 1.0
    return 1.0 - beta ** (t + variant.get("bias_offset", 0) + variant.get(f"bias_offset_{which}", 0))


def run_oracle(spec, hp: dict[str, float], grads: list[Leaves], lrs: list[float],
               variant: dict | None = None, params: list[Leaves] | None = None) -> list[Leaves]:
    """Updates of ``spec``'s rule for a sequence of gradients (one list of leaves per step).

    ``params``, when given, holds the parameter leaves before each step (the candidate's own, so
    that both sides see the same inputs); without it the oracle sees none (rules that need them
    then raise).
    """
    oracle = spec.oracle_for(hp, variant)
    oracle.init(grads[0])
    seq = params if params is not None else [None] * len(grads)
    out, signs, spreads = Updates(), [], []
    # alternatives such as an off-by-one bias correction divide by zero at step 1: that is their
    # (inf) answer, not a warning for the user
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for g, lr, p in zip(grads, lrs, seq):
            out.append(oracle.step(g, lr, p))
            signs.append(list(oracle.signs) or [None] * len(g))
            spreads.append(list(oracle.spreads) or [None] * len(g))
    if any(s is not None for step in signs for s in step):
        out.signs = signs
    if any(s is not None for step in spreads for s in step):
        out.spreads = spreads
    out.leaf_scale = spec.granularity == "matrix"
    return out


def reports_allowances(spec) -> bool:
    """Whether ``spec``'s oracle reports allowances (sign margins, spreads) that another implementation's
    updates need beside them when compared (compare.with_allowances)."""
    return bool(spec.oracle.USES_SIGN or spec.oracle.SPREADS or spec.granularity == "matrix")
