"""Per-step comparison of update sequences, and the diagnoser that names the likely bug.

The result of a comparison is a ``Comparison``: passed or not, the worst error/tolerance ratio,
and for a failure the first diverging step and leaf with its absolute and relative error.
When the candidate fails the canonical rule, ``diagnose`` replays the same gradients through
each known alternative convention of the spec and reports the one the candidate matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pytest_optim.oracles import run_oracle
from pytest_optim.specs import Spec, resolve_variant


@dataclass
class Comparison:
    passed: bool
    worst_ratio: float  # max over steps and elements of error / tolerance
    rtol: float
    steps: int
    first_step: int | None = None  # 1-based
    leaf: str | None = None
    index: tuple | None = None
    got: float | None = None
    expected: float | None = None
    abs_err: float | None = None
    rel_err: float | None = None
    nonfinite: bool = False
    diagnosis: list[str] = field(default_factory=list)

    def describe(self, what: str = "oracle") -> str:
        if self.passed:
            return f"max error/tolerance = {self.worst_ratio:.3g} (rtol {self.rtol:.3g}, {self.steps} steps)"
        head = (
            f"first diverging step {self.first_step} of {self.steps}, leaf {self.leaf}{list(self.index or ())}: "
            f"got {self.got:.9g}, {what} says {self.expected:.9g} "
        )
        if self.nonfinite:
            head += "(non-finite update)"
        else:
            head += (
                f"(abs err {self.abs_err:.3g}, rel err {self.rel_err:.3g}; tolerance rtol {self.rtol:.3g}; "
                f"worst error/tolerance {self.worst_ratio:.3g})"
            )
        if self.diagnosis:
            head += "\n  the candidate matches instead: " + "; ".join(self.diagnosis)
        return head


def compare_updates(
    got: list[list[np.ndarray]],
    expected: list[list[np.ndarray]],
    paths: list[str],
    rtol: float,
    floor: float,
) -> Comparison:
    """Each element's error against rtol times the largest |expected| it has had so far."""
    steps = len(expected)
    worst = 0.0
    first = None
    for leaf_i, path in enumerate(paths):
        g = np.stack([np.asarray(s[leaf_i], np.float64) for s in got]) if steps else np.zeros(0)
        e = np.stack([np.asarray(s[leaf_i], np.float64) for s in expected]) if steps else np.zeros(0)
        if g.size == 0:
            continue
        scale = np.maximum.accumulate(np.abs(e), axis=0) + floor
        with np.errstate(invalid="ignore", over="ignore"):
            ratio = np.abs(g - e) / (rtol * scale)
        bad = ~np.isfinite(g) | ~(ratio <= 1.0)
        finite_ratio = np.where(np.isfinite(ratio), ratio, np.inf)
        worst = max(worst, float(finite_ratio.max()))
        if bad.any():
            flat = np.argwhere(bad.reshape(steps, -1))
            t = int(flat[:, 0].min())
            if first is None or t < first[0]:
                j = int(flat[flat[:, 0] == t][0, 1])
                idx = np.unravel_index(j, g.shape[1:]) if g.ndim > 1 else ()
                gv, ev = float(g[(t, *idx)]), float(e[(t, *idx)])
                first = (t, path, tuple(int(i) for i in idx), gv, ev, float(scale[(t, *idx)]))
    if first is None:
        return Comparison(True, worst, rtol, steps)
    t, path, idx, gv, ev, sc = first
    err = abs(gv - ev)
    return Comparison(
        False, worst, rtol, steps, first_step=t + 1, leaf=path, index=idx, got=gv, expected=ev,
        abs_err=err, rel_err=err / sc if sc else float("inf"), nonfinite=not np.isfinite(gv),
    )


def oracle_updates(spec: Spec, hp: dict, grads, lrs, variant: dict | None = None):
    full = {**spec.defaults, **{k: v for k, v in hp.items() if k != "learning_rate"}}
    return run_oracle(spec.name, full, grads, lrs, resolve_variant(spec, full, variant or {}))


def diagnose(spec: Spec, hp: dict, grads, lrs, got, paths, rtol, floor) -> list[str]:
    """Labels of the known alternatives whose updates the candidate reproduces."""
    matches = []
    for alt in spec.alternatives:
        try:
            alt_updates = oracle_updates(spec, hp, grads, lrs, alt.variant)
        except Exception:  # noqa: BLE001 - an alternative that cannot run here simply does not match
            continue
        # A looser tolerance: the candidate may implement the alternative in its own style.
        if compare_updates(got, alt_updates, paths, rtol * 10, floor).passed:
            matches.append(f"{alt.label} [{alt.key}]" + (f" ({alt.seen_in})" if alt.seen_in else ""))
    return matches
