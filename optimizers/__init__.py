"""The bundled optimizers, written from scratch in JAX (no optax code inside).

Each is a factory ``name(learning_rate, **hyperparameters) -> GradientTransformation`` with
optax's keyword names; ``REGISTRY`` maps the canonical spec names to them.
"""

from optimizers._base import GradientTransformation
from optimizers.adadelta import adadelta
from optimizers.lamb import lamb
from optimizers.lion import lion
from optimizers.radam import radam
from optimizers.signum import signum
from optimizers.adaptive import adagrad, rmsprop
from optimizers.moments import adabelief, adam, adamax, nadam
from optimizers.sgd import momentum, nesterov, sgd

REGISTRY = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamax": adamax,
    "nadam": nadam,
    "adabelief": adabelief,
    "adadelta": adadelta,
    "radam": radam,
    "lion": lion,
    "signum": signum,
    "lamb": lamb,
}

__all__ = ["GradientTransformation", "REGISTRY", *REGISTRY]
