"""radam: Liu et al., "On the variance of the adaptive learning rate and beyond" (ICLR 2020), Algorithm 2.

m, v as Adam; rho_t, the length of the simple moving average that the EMA v_t approximates, and
rho_inf = 2/(1 - b2) - 1. While rho_t < threshold the step is the un-adapted momentum step
-lr m_hat; from then on -lr r_t m_hat/(sqrt(v_hat) + eps), with the variance rectification
r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).

Canonical choices, and why (sources read: optax 0.2.8 ``optax/_src/transform.py`` ``scale_by_radam``;
torch 2.13 ``torch/optim/radam.py``; LiyuanLucasLiu/RAdam ``radam/radam.py``; kozistr/pytorch_optimizer
``pytorch_optimizer/optimizer/radam.py``):

* **threshold is a hyperparameter** (optax's ``threshold=5.0``), compared as rho_t >= threshold
  (optax ``jnp.where(ro >= threshold, ...)``; the authors' code ``if N_sma >= 5``; pytorch_optimizer
  ``n_sma >= self.n_sma_threshold``). The paper's own test, "the variance is tractable, i.e.
  rho_t > 4", is ``threshold=4.0``; torch's ``rho_t > 5.0`` is ``threshold=5.0``. Strict or not
  makes no difference: rho_t never equals 4 or 5 exactly for b2 in [0.5, 0.999] (checked in float64
  and float32 for t <= 200 on a grid of b2 values: the nearest rho_t is 0.0025 from 4 and 0.004 from
  5 at b2 = 0.999, and further for smaller b2); so there is no alternative for it. The default is 5
  (optax, the authors' code, torch, pytorch_optimizer; optax PR #15 discusses the paper's 4 vs the
  code's 5). With b2 = 0.999 the first rectified step is t = 6 at threshold 5 and t = 5 at 4.
* **eps is added to sqrt(v_hat)** (optax; where Adam's Algorithm 1 puts it). The paper's Algorithm 2
  has no eps at all (l_t = sqrt((1 - b2^t)/v_t)). torch, the authors' code and pytorch_optimizer
  add eps to the raw sqrt(v) and fold sqrt(1 - b2^t) into the step: ``[eps_hat]``.
* **below the threshold, the momentum step -lr m_hat** (the paper's Algorithm 2 "else" branch; optax;
  torch). The authors' current code and pytorch_optimizer default to no step at all
  (``degenerated_to_sgd=False``): ``[no_step_below_threshold]``, and with their eps placement
  ``[authors_radam]``.

rho_t is computed here from its definition in the paper (section 4): the length f of the simple
moving average whose centre of mass is the EMA's, rho_t = 2 sum_j j b2^(j-1) / sum_j b2^(j-1) - 1
(j = 1..t), sums of positive terms, accurate to a few ulp. The closed form every library evaluates,
rho_inf - 2 t b2^t/(1 - b2^t), cancels two numbers of size 2/(1 - b2) and loses about 1/(t(1 - b2)^2)
ulp at small t (at b2 = 0.999: rho_6 = 5.994 is 5.955 in optax's float32; r_6 is then 1e-2 off).
"""

from __future__ import annotations

import math

import numpy as np

from pytest_optim.specs import conventions as c
from pytest_optim.specs.oracle import Oracle
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning

# b2 -> ([S_1, S_2, ...], [D_1, D_2, ...]) with S_t = sum_{j<=t} b2^(j-1), D_t = sum_{j<=t} j b2^(j-1),
# grown on demand with compensated (Neumaier) sums
_SUMS: dict[float, tuple[list[float], list[float], list[float]]] = {}


def _neumaier(total: float, comp: float, x: float) -> tuple[float, float]:
    s = total + x
    comp += (total - s) + x if abs(total) >= abs(x) else (x - s) + total
    return s, comp


def sma_length(b2: float, t: int) -> float:
    """rho_t: 2 * (mean of j = 1..t weighted by b2^(j-1)) - 1, the paper's SMA length."""
    if b2 == 0.0:
        return 1.0  # only the newest gradient: an SMA of length 1
    s_list, d_list, acc = _SUMS.setdefault(b2, ([], [], [0.0, 0.0, 0.0, 0.0]))
    while len(s_list) < t:
        j = len(s_list) + 1
        w = b2 ** (j - 1)
        acc[0], acc[1] = _neumaier(acc[0], acc[1], w)
        acc[2], acc[3] = _neumaier(acc[2], acc[3], j * w)
        s_list.append(acc[0] + acc[1])
        d_list.append(acc[2] + acc[3])
    return 2.0 * d_list[t - 1] / s_list[t - 1] - 1.0


def rectification(b2: float, rho: float) -> float:
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    return math.sqrt((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))


def closed_form_condition(b2: float, threshold: float) -> float:
    """Bound, in units of the scalars' roundoff u, on the relative error of r_t computed by the closed
    form rho_inf - 2 t b2^t/(1 - b2^t) (what optax, torch and the authors' code evaluate), max over t.

    With p = b2^t (pow: relative error <= 2u), T = 2 t p/(1 - p) and rho = rho_inf - T:
    |d rho| <= u (2 rho_inf + T (2 p/(1 - p) + 4) + rho), since 1 - p loses u p/(1 - p) and rho_inf =
    2/(1 - b2) - 1 is good to 2u rho_inf; then d r/r <= 1/2 (1/(rho - 4) + 1/(rho - 2) + 1/rho) |d rho|
    + 1/2 (1/(rho_inf - 4) + 1/(rho_inf - 2) + 1/rho_inf) 2u rho_inf + 6u (products, quotient, sqrt).
    The worst t is the first rectified step (rho - 4 smallest, 1 - p smallest). At b2 = 0.999 this is
    3.1e5 at threshold 5 (t = 6) and 6.2e5 at threshold 4 (t = 5); measured: optax's float32 r_5 is
    3.4e5 u off, its float64 r_6 1.0e5 u, NumPy float32 r_6 3.1e4 u (/tmp measurements, 2026-12-01).
    """
    if not 0.0 < b2 < 1.0:
        return 0.0
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    worst, t = 0.0, 0
    while t * (1.0 - b2) < 50.0 and t < 100_000:  # past t(1 - b2) = 50, p ~ 0 and the bound only falls
        t += 1
        p = b2**t
        big_t = 2.0 * t * p / (1.0 - p)
        rho = rho_inf - big_t
        if rho < threshold or rho <= 4.0:
            continue
        d_rho = 2.0 * rho_inf + big_t * (2.0 * p / (1.0 - p) + 4.0) + rho
        kappa = (0.5 * (1 / (rho - 4) + 1 / (rho - 2) + 1 / rho) * d_rho
                 + (1 / (rho_inf - 4) + 1 / (rho_inf - 2) + 1 / rho_inf) * rho_inf + 6.0)
        worst = max(worst, kappa)
    return worst


class Radam(Oracle):
    """Liu et al. Algorithm 2 with eps on sqrt(v_hat); variants ``eps_hat`` (eps on the raw sqrt(v),
    sqrt(1 - b2^t) folded into the step) and ``skip_unrectified`` (no step while rho_t < threshold)."""

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _leaf(self, g, s, t, lr, p):
        b1, b2, eps, threshold = self.hp["b1"], self.hp["b2"], self.hp["eps"], self.hp["threshold"]
        m, v = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        rho = sma_length(b2, t)
        if rho >= threshold:
            r = rectification(b2, rho)
            bc2 = 1 - b2**t
            if self.variant.get("eps_hat"):
                step = r * math.sqrt(bc2) * m_hat / (np.sqrt(v) + eps)
            else:
                step = r * m_hat / (np.sqrt(v / bc2) + eps)
        elif self.variant.get("skip_unrectified"):
            step = np.zeros_like(m)
        else:
            step = m_hat
        return -lr * step, (m, v)


def first_two_updates(hp, lr, g1, g2):
    # rho_1 = 1 and rho_2 = 2(1 + 2 b2)/(1 + b2) - 1 < 2 are below any threshold >= 4: both steps are
    # the un-adapted momentum step -lr m_hat, m_hat_1 = g1, m_hat_2 = (b1 g1 + g2)/(1 + b1)
    return -lr * g1, -lr * (hp["b1"] * g1 + g2) / (1 + hp["b1"])


TORCH_NAMES = {"learning_rate": "lr", ("b1", "b2"): "betas", "eps": "eps", "threshold": None}

EPS_HAT = Alternative(
    "eps_hat", "eps on the raw sqrt(v), bias correction folded into the step: "
    "-lr r_t sqrt(1-b2^t) m_hat/(sqrt(v) + eps)", {"eps_hat": True},
    "torch.optim.RAdam (_compute_adaptive_lr: sqrt(bias_correction2)/(sqrt(exp_avg_sq) + eps)); "
    "LiyuanLucasLiu/RAdam radam.py; pytorch_optimizer.RAdam")
NO_STEP = Alternative(
    "no_step_below_threshold", "no update at all while rho_t < threshold (instead of -lr m_hat)",
    {"skip_unrectified": True},
    "degenerated_to_sgd=False: pytorch_optimizer.RAdam's default; LiyuanLucasLiu/RAdam radam/radam.py")
# threshold >= 4: r_t needs rho_t >= 4 (the paper's tractability condition)
RANGES = {**c.MOMENTS_RANGES, "threshold": (4.0, 8.0)}

AUTHORS = Alternative(
    "authors_radam", "no update while rho_t < threshold, then eps on the raw sqrt(v): "
    "-lr r_t sqrt(1-b2^t) m_hat/(sqrt(v) + eps)", {"skip_unrectified": True, "eps_hat": True},
    "the defaults of LiyuanLucasLiu/RAdam radam/radam.py and pytorch_optimizer.RAdam "
    "(degenerated_to_sgd=False, n_sma_threshold=5)")

SPEC = Spec(
    name="radam",
    rule="m, v as adam; -lr m_hat while rho_t < threshold, then -lr r_t m_hat/(sqrt(v_hat) + eps)",
    paper="Liu et al., Algorithm 2 (ICLR 2020)",
    defaults=dict(c.MOMENTS, threshold=5.0),
    # threshold 6: at b2 = 0.999 step 6 (rho_6 = 5.994) becomes a momentum step instead of rectified
    varied=dict(c.MOMENTS_VARIED, threshold=6.0),
    oracle=Radam,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.radam(lr, hp["b1"], hp["b2"], hp["eps"], threshold=hp["threshold"]),
    optax_call="optax.radam(lr, b1, b2, eps, threshold=threshold)",
    implementation="optimizers.radam:radam",
    # not scale invariant at any hyperparameters: the steps before the threshold are -lr m_hat
    adaptive=False,
    decays=("b1", "b2"),
    # The closed form of rho_t that every library evaluates is ill-conditioned at the first rectified
    # steps (closed_form_condition): its rounding is allowed for at the run's b2 and threshold (the
    # defaults b2 = 0.999, threshold = 5: 3.1e5 u of the scalars, float32 rtol ~ 2e-2, float64 ~ 4e-11;
    # at b2 = 0.9: 175 u).
    scalar_condition=lambda hp: closed_form_condition(hp["b2"], hp["threshold"]),
    alternatives=(EPS_HAT, NO_STEP, AUTHORS),
    tuning=Tuning(
        # the first steps (rho_t < threshold) are -lr m_hat, unnormalised: the adaptive family's learning
        # rates overflow Rosenbrock in float32 by step 6; the momentum family's are stable for them
        step_family="momentum",
        # adam's rates (1e-3, 2e-3, 2e-3) reach 88.4 / 29.2 / 81.7 %: the rectified steps start small
        # (r_6 = 0.03), a built-in warm-up that these short runs feel; higher rates, as RAdam is used
        workload_lr={"mnist": 3e-3, "cifar10": 5e-3, "imdb": 6e-3},
        thresholds={"mnist": 0.89,  # measured 91.54 %, margin 2.5
                    "cifar10": 0.28,  # measured 34.4 %, margin 6.4
                    "imdb": 0.82},  # measured 85.66 %, margin 3.7
        convergence_eps_per_lr_l=1.0,  # as adam (see specs/adam.py)
    ),
    ranges=RANGES,
    bytes_per_param=28,  # read p, g, m, v; write p, m, v
    # 10 memory passes at 1e7 parameters, as optax's radam (3 fusions; adam has 7): measured 3.45x
    # (dispatch) and 3.73x (compute) the floor on the 2-core CPU, ours/optax 0.96 and 1.01
    target_x_floor=4.0,
    frameworks={
        "torch": FrameworkNames("torch.optim.RAdam", TORCH_NAMES),  # torch has no threshold: rho_t > 5
        "keras": None,  # keras.optimizers has no RAdam (Keras 3.15)
    },
)
