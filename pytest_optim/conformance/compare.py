"""Per-step comparison of update sequences, and the diagnoser that names the likely bug.

The result of a comparison is a ``Comparison``: passed or not, the worst error/tolerance ratio,
and for a failure the first diverging step and leaf with its absolute and relative error.

What a candidate's user gets is the parameter trajectory, so updates are judged as the parameters
see them (``judge``): an element's tolerance is the update's own rounding (``rtol`` times its
scale) plus the rounding of the parameter it is added to (``resolution``, u |p|). A candidate whose
update is observed exactly (it returns it) is held to the first term alone; one that writes the
parameters in place, or returns new - old, carries one rounding of p in every update and passes on
the second. A regime in which every update is below the parameters' resolution cannot be judged
from the parameters: it is reported as not applicable, never as a pass.

When the candidate fails the canonical rule, ``diagnose`` replays the same gradients through each
known alternative convention of the spec and names the best-fitting one or two, only where the
alternative fits, the spec does not, and the two predictions are distinguishable in that regime.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pytest_optim.specs import Spec, resolve_variant
from pytest_optim.specs.oracle import run_oracle

# An update counts as resolved by the parameters when it is at least one ulp of the parameter,
# 2 u |p|, i.e. the resolution term itself (which is k u |p| with k = runner.PARAMETER_WRITES = 2):
# smaller updates are lost to, or dominated by, the rounding of p itself.
RESOLVED = 1.0


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
    tol: float | None = None  # the absolute tolerance of the first diverging element
    nonfinite: bool = False
    in_parameters: bool = False  # judged with the parameters' rounding as a tolerance term
    resolved: float | None = None  # fraction of update elements the parameters resolve
    diagnosis: list[str] = field(default_factory=list)
    diagnosed: bool = False  # the known conventions were tried

    def describe(self, what: str = "oracle") -> str:
        if self.passed:
            text = f"max error/tolerance = {self.worst_ratio:.3g} (rtol {self.rtol:.3g}, {self.steps} steps)"
            if self.in_parameters:
                text += (f"; judged on the parameters (update = new - old carries the rounding of p), "
                         f"{100 * (self.resolved or 0):.0f}% of update elements resolved")
            return text
        head = (
            f"first diverging step {self.first_step} of {self.steps}, leaf {self.leaf}{list(self.index or ())}: "
            f"got {self.got:.9g}, {what} says {self.expected:.9g} "
        )
        if self.nonfinite:
            head += "(non-finite update)"
        else:
            head += f"(abs err {self.abs_err:.3g}, rel err {self.rel_err:.3g}; tolerance rtol {self.rtol:.3g}"
            if self.in_parameters:
                head += f" plus the parameter's rounding, {self.tol:.3g} here"
            head += f"; worst error/tolerance {self.worst_ratio:.3g})"
        if self.diagnosis:
            head += "\n  the candidate matches instead: " + "; ".join(self.diagnosis)
        elif self.diagnosed:
            head += "\n  no known convention explains the difference"
        return head


def compare_updates(
    got: list[list[np.ndarray]],
    expected: list[list[np.ndarray]],
    paths: list[str],
    rtol: float,
    floor: float,
    resolution: list[list[np.ndarray]] | None = None,
) -> Comparison:
    """Each element's error against rtol times the largest |expected| it has had so far, plus
    (when given) ``resolution[t][leaf]``, the rounding of the parameter that update is added to."""
    steps = len(expected)
    worst = 0.0
    first = None
    signs = getattr(expected, "signs", None)
    spreads = getattr(expected, "spreads", None)
    leaf_scale = getattr(expected, "leaf_scale", False)
    for leaf_i, path in enumerate(paths):
        g = np.stack([np.asarray(s[leaf_i], np.float64) for s in got]) if steps else np.zeros(0)
        e = np.stack([np.asarray(s[leaf_i], np.float64) for s in expected]) if steps else np.zeros(0)
        if g.size == 0:
            continue
        if leaf_scale and e.ndim >= 3:  # a matrix leaf of a matrix-level rule: its largest element so far
            peak = np.abs(e).reshape(steps, -1).max(axis=1).reshape((steps,) + (1,) * (e.ndim - 1))
            scale = np.broadcast_to(np.maximum.accumulate(peak, axis=0), e.shape) + floor
        else:
            scale = np.maximum.accumulate(np.abs(e), axis=0) + floor
        tol = rtol * scale
        if resolution is not None:
            tol = tol + np.stack([np.asarray(r[leaf_i], np.float64) for r in resolution]).reshape(g.shape)
        if signs is not None:
            tol = tol + _sign_allowance(signs, leaf_i, g.shape, rtol)
        if spreads is not None:
            tol = tol + rtol * np.stack([np.broadcast_to(0.0 if s[leaf_i] is None else s[leaf_i], g.shape[1:])
                                         for s in spreads])
        with np.errstate(invalid="ignore", over="ignore"):
            ratio = np.abs(g - e) / tol
        bad = ~np.isfinite(g) | ~(ratio <= 1.0)
        finite_ratio = np.where(np.isfinite(ratio), ratio, np.inf)
        worst = max(worst, float(finite_ratio.max()))
        if bad.any():
            flat = np.argwhere(bad.reshape(steps, -1))
            t = int(flat[:, 0].min())
            if first is None or t < first[0]:
                j = int(flat[flat[:, 0] == t][0, 1])
                idx = np.unravel_index(j, g.shape[1:]) if g.ndim > 1 else ()
                at = (t, *idx)
                first = (t, path, tuple(int(i) for i in idx), float(g[at]), float(e[at]), float(scale[at]),
                         float(tol[at]))
    if first is None:
        return Comparison(True, worst, rtol, steps, in_parameters=resolution is not None)
    t, path, idx, gv, ev, sc, tl = first
    err = abs(gv - ev)
    return Comparison(
        False, worst, rtol, steps, first_step=t + 1, leaf=path, index=idx, got=gv, expected=ev,
        abs_err=err, rel_err=err / sc if sc else float("inf"), tol=tl, nonfinite=not np.isfinite(gv),
        in_parameters=resolution is not None,
    )


def _sign_allowance(signs, leaf_i: int, shape, rtol: float) -> np.ndarray:
    """Per step, the change a flipped sign makes where the rule's sign argument is within rounding
    (``rtol`` relative) of zero; 0 elsewhere (oracle.Oracle.sign)."""
    out = np.zeros(shape)
    for t, step in enumerate(signs):
        if step[leaf_i] is not None:
            margin, flip = step[leaf_i]
            out[t] = np.where(np.asarray(margin).reshape(shape[1:]) <= rtol, np.asarray(flip).reshape(shape[1:]), 0.0)
    return out


def with_allowances(updates, like):
    """``updates`` (another implementation's, for the same gradients) with the allowances the oracle's
    ``like`` reports (sign margins, spreads): two implementations round there as differently as one
    does from the exact rule."""
    signs, spreads = getattr(like, "signs", None), getattr(like, "spreads", None)
    leaf_scale = getattr(like, "leaf_scale", False)
    if signs is None and spreads is None and not leaf_scale:
        return updates
    from pytest_optim.specs.oracle import Updates

    out = Updates(updates)
    out.signs, out.spreads, out.leaf_scale = signs, spreads, leaf_scale
    return out


def resolved_fraction(expected, resolution) -> float:
    """Share of update elements at least one ulp of their parameter (see RESOLVED)."""
    total = hit = 0
    for e_step, r_step in zip(expected, resolution):
        for e, r in zip(e_step, r_step):
            e, r = np.abs(np.asarray(e, np.float64)), np.asarray(r, np.float64)
            total += e.size
            hit += int(np.count_nonzero(e > RESOLVED * r))
    return hit / total if total else 0.0


class BelowResolution(Exception):
    """Every update of the regime is below the resolution of the parameters it is added to."""


def judge(got, expected, paths, rtol, floor, resolution=None) -> Comparison:
    """The candidate's updates as its user sees them, in the parameters (module docstring).

    Exactly observed updates are held to ``rtol``; where that fails and ``resolution`` is known,
    the parameters' own rounding is added. Raises ``BelowResolution`` when the candidate matches
    only because no update of the regime is resolved by the parameters.
    """
    exact = compare_updates(got, expected, paths, rtol, floor)
    if exact.passed or resolution is None:
        return exact
    in_params = compare_updates(got, expected, paths, rtol, floor, resolution)
    if in_params.passed:
        in_params.resolved = resolved_fraction(expected, resolution)
        if in_params.resolved == 0.0:
            raise BelowResolution(
                "update below the resolution of the parameters: every update of this regime is smaller than "
                "one ulp of the parameter it is added to, and this candidate's updates are only seen through "
                "the parameters (new - old), so the regime cannot tell a correct rule from a wrong one"
            )
    return in_params


def oracle_updates(spec: Spec, hp: dict, grads, lrs, variant: dict | None = None, params=None):
    """The spec's float64 updates for these gradients (and, for rules that use them, parameters)."""
    full = {**spec.defaults, **{k: v for k, v in hp.items() if k != "learning_rate"}}
    return run_oracle(spec, full, grads, lrs, resolve_variant(spec, full, variant or {}), params)


MAX_NAMED = 2
SECOND_FIT = 2.0


def diagnose(spec: Spec, hp: dict, grads, lrs, got, paths, rtol, floor, resolution=None,
             canonical=None, params=None) -> list[str]:
    """The known alternatives (best fit first, at most two) that explain a failure.

    An alternative is named only when, in this regime and at the tolerance of the comparison, the
    candidate fits it, and its prediction differs from the canonical rule's by more than that
    tolerance somewhere (otherwise the two are indistinguishable here and naming it would mislead).
    A second is named only when it fits about as well as the best.
    """
    if canonical is None:
        canonical = oracle_updates(spec, hp, grads, lrs, params=params)
    fits = []
    for alt in spec.alternatives:
        try:
            alt_updates = oracle_updates(spec, hp, grads, lrs, alt.variant, params)
        except Exception:  # noqa: BLE001 - an alternative that cannot run here simply does not match
            continue
        try:  # judged as the canonical rule is: a fit only through updates no parameter resolves is none
            fit = judge(got, alt_updates, paths, rtol, floor, resolution)
        except BelowResolution:
            continue
        if not fit.passed:
            continue
        if compare_updates(alt_updates, canonical, paths, rtol, floor, resolution).passed:
            continue  # the alternative predicts what the spec predicts here: it cannot explain a failure
        label = f"{alt.label} [{alt.key}]" + (f" ({alt.seen_in})" if alt.seen_in else "")
        if label not in (f for _, f in fits):
            fits.append((fit.worst_ratio, label))
    fits.sort(key=lambda x: x[0])
    # a second one only when the data cannot prefer the first: it fits about as well (its worst
    # error/tolerance within SECOND_FIT of the best's), e.g. two conventions that coincide here
    best = fits[0][0] if fits else 0.0
    return [label for i, (ratio, label) in enumerate(fits[:MAX_NAMED])
            if i == 0 or ratio <= SECOND_FIT * max(best, 1e-3)]
