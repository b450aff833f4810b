"""momentum: Polyak's heavy ball, v <- mu v + g (v0 = 0); p <- p - lr v."""

from __future__ import annotations

from pytest_optim.specs import conventions as c
from pytest_optim.specs.oracle import Oracle
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning


class Momentum(Oracle):
    """v_t = mu v_{t-1} + g_t (v_0 = 0); update -lr v_t, or -lr (g_t + mu v_t) for Nesterov."""

    nesterov = False

    def _init(self, zeros):
        return [z.copy() for z in zeros]

    def _leaf(self, g, v, t, lr, p):
        mu = self.hp["momentum"]
        d = self.variant.get("dampening", 0.0)
        nesterov = self.variant.get("nesterov", self.nesterov)
        if self.variant.get("lr_in_velocity"):  # Keras: v = mu v + lr g; p -= v (or lr g + mu v)
            v = mu * v + lr * g
            return -(lr * g + mu * v if nesterov else v), v
        if self.variant.get("first_step_buffer") and t == 1:
            v = g.copy()  # PyTorch: the buffer is initialised to g on the first step
        else:
            v = mu * v + (1 - d) * g
        direction = g + mu * v if nesterov else v
        return -lr * direction, v


def first_two_updates(hp, lr, g1, g2):
    mu = hp["momentum"]
    v1, v2 = g1, mu * g1 + g2
    return -lr * v1, -lr * v2


SPEC = Spec(
    name="momentum",
    rule="v <- mu*v + g (v0 = 0); p <- p - lr*v",
    paper="Polyak (1964)",
    defaults={"momentum": 0.9},
    varied={"momentum": 0.5},
    oracle=Momentum,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.sgd(lr, momentum=hp["momentum"]),
    optax_call="optax.sgd(lr, momentum)",
    implementation="optimizers:momentum",
    complex_rule="linear",
    decays=("momentum",),
    alternatives=(c.DAMPENED, c.FIRST_STEP,
                  Alternative("nesterov_instead", "Nesterov update instead of heavy ball", {"nesterov": True})),
    schedule_equivalents=(c.LR_IN_VELOCITY,),
    tuning=Tuning(
        step_family="momentum",
        workload_lr={"mnist": 0.05, "cifar10": 0.02, "imdb": 0.1},
        thresholds={"mnist": 0.90,  # measured 92.80 %, margin 2.8
                    "cifar10": 0.29,  # measured 35.2 %, margin 6.2
                    "imdb": 0.74},  # measured 80.14 %, margin 6.1
        full_workload_lr={"mnist": 0.01}, full_thresholds={"mnist": 0.971},
        rate_steps=32,  # Polyak's optimal rate ((sqrt(k)-1)/(sqrt(k)+1))^32 ~ 1e-9 at kappa = 10
    ),
    ranges={"momentum": (0.0, 0.99)},
    bytes_per_param=20,  # read p, g, v; write p, v
    target_x_floor=2.0,
    frameworks={
        "torch": FrameworkNames("torch.optim.SGD", {"learning_rate": "lr", "momentum": "momentum"}),
        "keras": FrameworkNames("keras.optimizers.SGD", {"learning_rate": "learning_rate", "momentum": "momentum"}),
    },
)
