"""signum: Bernstein et al., "signSGD: compressed optimisation for non-convex problems" (ICML 2018).

    v <- beta v + (1 - beta) g  (v0 = 0);   p <- p - lr sign(v)

Canonical form: Algorithm 3 of the paper (Signum, "sign momentum"), with signSGD (Algorithm 1,
p <- p - lr sign(g)) the same rule at beta = 0. The hyperparameter is optax's name and default,
``beta = 0.9`` (``optax.signum(learning_rate, beta=0.9, accumulator_dtype=None)``: ``transform.ema(beta,
debias=False)``, then ``scale_by_sign``, then the learning rate; optax/_src/alias.py). The EMA is not
debiased: sign(v / (1 - beta^t)) = sign(v), so debiasing could not change the update anyway.

What the update cannot show. sign() is invariant to a positive factor, so the heavy-ball trace
v = beta v + g (optax.trace, torch.optim.SGD's buffer with dampening 0) and the EMA
v = beta v + (1 - beta) g give exactly the same updates (the trace is the EMA divided by 1 - beta at
every step); so does any dampening d < 1 of a buffer started at 0, and a debiased EMA. They are one
rule here, not alternatives. What *does* change the sign: a buffer started at g on the first step
and then dampened (torch.optim.SGD with dampening = momentum: v_1 = g_1, then beta v + (1 - beta) g
weighs g_1 1/(1 - beta) times more than the EMA does), a Nesterov look-ahead, momentum of the signs
instead of the sign of the momentum, dropping the momentum (signSGD), and where sign(0) lands.

sign_sgd. ``optax.sign_sgd(learning_rate)`` takes no ``beta``: the harness builds every candidate with
the spec's hyperparameters by keyword, so ``--optim=optax:sign_sgd@signum`` fails at build (TypeError,
"takes no beta"). sign_sgd is checked as signum at beta = 0 through the port run
``--optim=tests.candidates.correct_signum:optax_sign_sgd --optim-reference=optimizers.signum:signum@signum
--optim-hp=beta=0`` (the wrapper swallows beta, as user code with **kwargs does; docs/conventions.md).

Tolerance of the sign (oracle.Oracle.sign): v_t is an EMA; step k rounds it by ~2 u S_k with
S_k = |beta v_(k-1)| + |(1 - beta) g_k|, and the error of step k decays like beta^(t-k), so the
candidate's v_t is off by at most 2 u max_k S_k min(t, 1/(1 - beta)) <= rtol * M with M = max_k S_k
(the largest sum of |terms| v has held, a running max in the oracle's state) and
rtol >= u (OPS + 3 min(t, 1/(1 - beta))) (decays = ("beta",)). Where |v| <= rtol M the comparison
allows the update to move by flip = 2 lr.
"""

from __future__ import annotations

import numpy as np

from pytest_optim.specs.lion import SIGN_RULE_CONVERGENCE, signed
from pytest_optim.specs.oracle import Oracle
from pytest_optim.specs.record import Alternative, Spec, Tuning


class Signum(Oracle):
    """Algorithm 3 of Bernstein et al.: v = beta v + (1 - beta) g; update -lr sign(v).

    State per leaf: (v, M), M the running max of |beta v_(k-1)| + |(1 - beta) g_k|.
    Variants: ``first_step_buffer`` (v_1 = g_1, then the EMA), ``nesterov`` (sign(beta v_t + (1 - beta) g)),
    ``momentum_of_signs`` (v = beta v + sign(g), update -lr v), ``sign_sgd`` (beta ignored: sign(g)),
    ``sign_zero_positive`` (where(v >= 0, 1, -1)).
    """

    USES_SIGN = True

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _leaf(self, g, s, t, lr, p):
        var = self.variant
        beta = 0.0 if var.get("sign_sgd") else self.hp["beta"]
        v, big = s
        if var.get("momentum_of_signs"):  # heavy ball on the signs: no sign of the result
            v = beta * v + np.sign(g)
            return -lr * v, (v, big)
        if var.get("first_step_buffer") and t == 1:
            v_new = g.copy()
            big = np.abs(g)
        else:
            v_new = beta * v + (1 - beta) * g
            big = np.maximum(big, np.abs(beta * v) + np.abs((1 - beta) * g))
        if var.get("nesterov"):
            x = beta * v_new + (1 - beta) * g
            magnitude = np.abs(beta * v_new) + np.abs((1 - beta) * g) + beta * big
        else:
            x, magnitude = v_new, big
        return -lr * signed(self, x, magnitude, 2 * lr, var), (v_new, big)


def first_two_updates(hp, lr, g1, g2):
    beta = hp["beta"]
    # v_1 = (1 - beta) g1; v_2 = (1 - beta)(beta g1 + g2): signs of g1 and of beta g1 + g2
    return -lr * np.sign(g1), -lr * np.sign(beta * g1 + g2)


# n/a for sign rules (see specs/lion.py, SIGN_RULE_CONVERGENCE)


SPEC = Spec(
    name="signum",
    rule="v <- beta*v + (1-beta)*g (v0 = 0, not debiased); p <- p - lr*sign(v); signSGD at beta = 0",
    paper="Bernstein et al., signSGD: compressed optimisation for non-convex problems, Algorithm 3 (ICML 2018)",
    defaults={"beta": 0.9},
    varied={"beta": 0.5},
    oracle=Signum,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.signum(lr, beta=hp["beta"]),
    optax_call="optax.signum(lr, beta)",
    implementation="optimizers.signum:signum",
    adaptive=True,  # sign(k v) = sign(v): exactly invariant to the gradients' scale, at any beta
    scale_free={},
    decays=("beta",),
    alternatives=(
        Alternative("sign_sgd", "signSGD: sign(g), the momentum ignored", {"sign_sgd": True},
                    "optax.sign_sgd (scale_by_sign, no momentum)"),
        Alternative("first_step_buffer", "PyTorch first-step buffer with dampening: v_1 = g, then "
                    "beta*v + (1-beta)*g, signed", {"first_step_buffer": True},
                    "torch.optim.SGD(momentum=beta, dampening=beta)'s buffer fed to sign()"),
        Alternative("nesterov", "Nesterov look-ahead: sign(beta*v_t + (1-beta)*g) (the sign of torch's g + mu*buf "
                    "with buf the trace, the same sign)", {"nesterov": True},
                    "optax.sgd(nesterov=True) / torch.optim.SGD(nesterov=True) direction, signed"),
        Alternative("momentum_of_signs", "momentum of the signs, not the sign of the momentum: "
                    "v = beta*v + sign(g); p -= lr*v", {"momentum_of_signs": True},
                    "SignSGD classes with momentum 'on the sign updates'"),
        Alternative("sign_zero_positive", "1-bit sign: where(v >= 0, 1, -1), so sign(0) = +1 (differs only where "
                    "v == 0 exactly)", {"sign_zero_positive": True},
                    "sign-compression code: GRACE SignSGDCompressor (sands-lab/grace, "
                    "grace_dl/torch/compressor/signsgd.py: tensor >= 0, then *2 - 1)"),
    ),
    tuning=Tuning(
        convergence_na=SIGN_RULE_CONVERGENCE.format(name="signum"),
        step_family="adaptive",  # steps of lr per coordinate, as lion (specs/lion.py)
        # lr from a sweep (1e-4 .. 1.5e-3; docs/workloads.md)
        workload_lr={"mnist": 6e-4, "cifar10": 1e-3, "imdb": 6e-4},
        thresholds={"mnist": 0.91,  # measured 93.40 %, margin 2.4
                    "cifar10": 0.32,  # measured 38.9 %, margin 6.9
                    "imdb": 0.79},  # measured 84.56 %, margin 5.6
    ),
    ranges={"beta": (0.0, 0.99)},
    bytes_per_param=20,  # read p, g, v; write p, v
    target_x_floor=2.0,
    frameworks={"torch": None, "keras": None},  # torch.optim (2.13) and keras.optimizers (3.15) have no Signum
)
