"""The bundled optimizers, written from scratch in JAX (no optax code inside).

Each is a factory ``name(learning_rate, **hyperparameters) -> GradientTransformation`` with
optax's keyword names; ``REGISTRY`` maps the canonical spec names to them.
"""

from optimizers._base import GradientTransformation
from optimizers.adadelta import adadelta
from optimizers.adafactor import adafactor
from optimizers.adamw import adamw
from optimizers.adaptive import adagrad, rmsprop
from optimizers.amsgrad import amsgrad
from optimizers.lamb import lamb
from optimizers.lion import lion
from optimizers.moments import adabelief, adam, adamax, nadam
from optimizers.muon import muon
from optimizers.radam import radam
from optimizers.sgd import momentum, nesterov, sgd
from optimizers.signum import signum

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
    "adamw": adamw,
    "amsgrad": amsgrad,
    "radam": radam,
    "lion": lion,
    "signum": signum,
    "lamb": lamb,
    "adadelta": adadelta,
    "adafactor": adafactor,
    "muon": muon,
}

__all__ = ["GradientTransformation", "REGISTRY", *REGISTRY]
