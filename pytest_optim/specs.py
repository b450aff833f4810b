"""Canonical specs: one entry per optimizer name.

A spec names the hyperparameters (optax's keywords) and their defaults, the float64 oracle of
the paper's rule (``pytest_optim.oracles``), the optax function that implements the same rule
and how exactly, and the known alternative conventions the diagnoser can recognise.

Adding an optimizer = one entry here + one oracle class + (for the bundled set) one factory.
This module imports no JAX; ``optax_reference`` imports optax only when called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any



@dataclass(frozen=True)
class Alternative:
    """A known convention that is *not* the canonical one, as an oracle variant."""

    key: str  # stable identifier, e.g. "eps_inside_sqrt"
    label: str  # what a person reads in the failure message
    variant: dict[str, Any]
    seen_in: str = ""  # where this convention comes from


@dataclass(frozen=True)
class Spec:
    name: str
    rule: str  # the update rule in one line, for reports and docs
    paper: str
    defaults: dict[str, float]  # every hyperparameter except learning_rate
    varied: dict[str, float]  # a value away from each default that visibly changes the result
    optax_call: str  # how the optax reference is built, for people
    optax_exact: bool
    optax_note: str = ""
    adaptive: bool = False  # divides by a gradient statistic: scale invariant as eps -> 0
    decays: tuple[str, ...] = ()  # hyperparameters that are EMA decay rates (tolerance model)
    accumulates: bool = False  # keeps a running *sum* (tolerance grows with the step count)
    alternatives: tuple[Alternative, ...] = field(default_factory=tuple)
    # conventions that are the same rule for a constant learning rate but differ under schedules;
    # a candidate matching one of them passes the schedule checks, with a note
    schedule_equivalents: tuple[Alternative, ...] = field(default_factory=tuple)

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        return ("learning_rate", *self.defaults)

    def optax_reference(self, learning_rate, **hp):
        """The optax transformation of the same rule, or None where optax has none."""
        import optax

        hp = {**self.defaults, **hp}
        return _OPTAX_BUILDERS[self.name](optax, learning_rate, hp)


_OPTAX_BUILDERS = {
    "sgd": lambda o, lr, hp: o.sgd(lr),
    "momentum": lambda o, lr, hp: o.sgd(lr, momentum=hp["momentum"]),
    "nesterov": lambda o, lr, hp: o.sgd(lr, momentum=hp["momentum"], nesterov=True),
    "adagrad": lambda o, lr, hp: o.adagrad(lr, hp["initial_accumulator_value"], hp["eps"]),
    "rmsprop": lambda o, lr, hp: o.rmsprop(lr, hp["decay"], hp["eps"], eps_in_sqrt=False),
    "adam": lambda o, lr, hp: o.adam(lr, hp["b1"], hp["b2"], hp["eps"]),
    "adamax": lambda o, lr, hp: o.adamax(lr, hp["b1"], hp["b2"], hp["eps"]),
    "nadam": lambda o, lr, hp: o.nadam(lr, hp["b1"], hp["b2"], hp["eps"]),
    "adabelief": lambda o, lr, hp: o.adabelief(lr, hp["b1"], hp["b2"], hp["eps"], hp["eps_root"]),
}

_EPS_INSIDE = Alternative(
    "eps_inside_sqrt", "eps inside the square root: sqrt(v + eps)", {"eps_inside_sqrt": True},
    "optax/Keras rmsprop and adagrad defaults (optax #532, pytorch #23796)",
)
_GLOBAL = Alternative(
    "global_statistics", "global instead of elementwise statistics (mean of g**2 over the leaf)",
    {"global_statistics": True},
)
_DAMPENED = Alternative(
    "dampened_momentum", "dampened momentum: v = mu v + (1 - mu) g", {"dampening": "momentum"},
    "PyTorch SGD with dampening = momentum; EMA-style momentum",
)
_LR_IN_VELOCITY = Alternative(
    "lr_in_velocity", "Keras form: lr inside the velocity (v = mu v + lr g; p -= v)", {"lr_in_velocity": True},
    "keras.optimizers.SGD; the same rule as the canonical one for a constant learning rate",
)
_TORCH_NADAM = ("PyTorch NAdam momentum schedule mu_t = b1(1 - 0.5*0.96^(0.004 t)), "
                "bias-corrected by the running product of mu")
_TORCH_NADAM_SEEN = ("torch.optim.NAdam (torch/optim/nadam.py _single_tensor_nadam, torch 2.13, momentum_decay=4e-3; "
                     "mu_product in the default scalar dtype, float32 unless torch.set_default_dtype(torch.float64)); "
                     "optax PR #719")
_FIRST_STEP = Alternative(
    "first_step_buffer", "PyTorch first-step buffer with dampening: v_1 = g, then mu v + (1 - mu) g",
    {"first_step_buffer": True, "dampening": "momentum"}, "torch.optim.SGD",
)


def _bias_alternatives(with_v: bool) -> tuple[Alternative, ...]:
    alts = [
        Alternative("no_bias_correction_m", "missing bias correction of the first moment",
                    {"no_bias_correction_m": True}),
    ]
    for which, moments in (("", "both moments"), ("_m", "first moment"), ("_v", "second moment")):
        if which != "_m" and not with_v:
            continue
        for off in (-1, 1):
            alts.append(Alternative(
                "bias_correction_off_by_one",
                f"bias correction off by one ({moments if with_v else 'first moment'}): 1 - beta**(t{off:+d})",
                {f"bias_offset{which}": off}))
    if with_v:
        alts += [
            Alternative("no_bias_correction_v", "missing bias correction of the second moment",
                        {"no_bias_correction_v": True}),
            Alternative("no_bias_correction", "missing bias correction (both moments)",
                        {"no_bias_correction": True}),
        ]
    return tuple(alts)


_MOMENTS = dict(b1=0.9, b2=0.999, eps=1e-8)
_MOMENTS_VARIED = dict(b1=0.5, b2=0.9, eps=0.1)

SPECS: dict[str, Spec] = {
    s.name: s
    for s in [
        Spec("sgd", "p <- p - lr*g", "Robbins & Monro (1951)", {}, {},
             "optax.sgd(lr)", True),
        Spec("momentum", "v <- mu*v + g (v0 = 0); p <- p - lr*v", "Polyak (1964)",
             {"momentum": 0.9}, {"momentum": 0.5}, "optax.sgd(lr, momentum)", True,
             decays=("momentum",), schedule_equivalents=(_LR_IN_VELOCITY,),
             alternatives=(_DAMPENED, _FIRST_STEP,
                           Alternative("nesterov_instead", "Nesterov update instead of heavy ball",
                                       {"nesterov": True}))),
        Spec("nesterov", "v <- mu*v + g; p <- p - lr*(g + mu*v)",
             "Nesterov (1983); Sutskever et al. (ICML 2013)",
             {"momentum": 0.9}, {"momentum": 0.5}, "optax.sgd(lr, momentum, nesterov=True)", True,
             decays=("momentum",), schedule_equivalents=(_LR_IN_VELOCITY,),
             alternatives=(_DAMPENED, _FIRST_STEP,
                           Alternative("heavy_ball_instead", "plain heavy-ball momentum, no look-ahead",
                                       {"nesterov": False}))),
        Spec("adagrad", "r <- r + g^2 (r0 = initial_accumulator_value); p <- p - lr*g/(sqrt(r) + eps)",
             "Duchi, Hazan & Singer (JMLR 2011)",
             {"initial_accumulator_value": 0.1, "eps": 1e-7},
             {"initial_accumulator_value": 1.0, "eps": 0.1},
             "optax.adagrad(lr, initial_accumulator_value, eps)", False,
             "optax puts eps inside the sqrt (and returns 0 where the accumulator is 0); "
             "compared at eps=0, where both conventions are the same rule",
             adaptive=True, accumulates=True,
             alternatives=(_EPS_INSIDE,
                           Alternative("optax_adagrad", "optax's adagrad: g/sqrt(r + eps), 0 where r = 0",
                                       {"optax_adagrad": True}, "optax.adagrad, Keras"),
                           Alternative("zero_initial_accumulator",
                                       "accumulator starts at 0 whatever initial_accumulator_value says: "
                                       "r_0 = 0, g/(sqrt(r) + eps)",
                                       {"zero_initial_accumulator": True},
                                       "numpy-ml AdaGrad (numpy_ml/neural_nets/optimizers/optimizers.py: cache = "
                                       "np.zeros_like(grad), no initial-accumulator option); torch.optim.Adagrad's "
                                       "default initial_accumulator_value=0 (torch/optim/adagrad.py, torch 2.13) "
                                       "in a port that does not pass the value on"),
                           _GLOBAL)),
        Spec("rmsprop", "r <- decay*r + (1-decay)*g^2 (r0 = 0); p <- p - lr*g/(sqrt(r) + eps)",
             "Tieleman & Hinton, Coursera lecture 6.5 (2012)",
             {"decay": 0.9, "eps": 1e-8}, {"decay": 0.5, "eps": 0.1},
             "optax.rmsprop(lr, decay, eps, eps_in_sqrt=False)", True,
             adaptive=True, decays=("decay",),
             alternatives=(_EPS_INSIDE,
                           Alternative("accumulator_starts_at_one", "accumulator initialised to 1 instead of 0: "
                                       "r_0 = 1, g/(sqrt(r) + eps)", {"initial_scale": 1.0},
                                       "autograd.misc.optimizers.rmsprop (avg_sq_grad = np.ones(len(x))); "
                                       "optax.rmsprop(..., initial_scale=1.0, eps_in_sqrt=False)"),
                           _GLOBAL)),
        Spec("adam", "m_hat/(sqrt(v_hat) + eps) with bias-corrected EMAs of g and g^2",
             "Kingma & Ba, Algorithm 1 (ICLR 2015)", dict(_MOMENTS), dict(_MOMENTS_VARIED),
             "optax.adam(lr, b1, b2, eps)", True, adaptive=True, decays=("b1", "b2"),
             alternatives=(_EPS_INSIDE, *_bias_alternatives(True),
                           Alternative("eps_hat", "TF/Keras 'eps-hat' Adam: lr*sqrt(1-b2^t)/(1-b1^t)*m/(sqrt(v)+eps)",
                                       {"eps_hat": True}, "tf.keras Adam (optax #571, tensorflow #35102)"),
                           _GLOBAL)),
        Spec("adamax", "u <- max(b2*u, |g| + eps); p <- p - lr*(m/(1-b1^t))/u",
             "Kingma & Ba, section 7.1 (ICLR 2015)", dict(_MOMENTS), dict(_MOMENTS_VARIED),
             "optax.adamax(lr, b1, b2, eps)", True, adaptive=True, decays=("b1",),
             alternatives=(*_bias_alternatives(False),
                           Alternative("keras_adamax", "Keras adamax: u = max(b2 u, |g|), divide by (u + eps)",
                                       {"keras_adamax": True}, "keras.optimizers.Adamax"))),
        Spec("nadam", "b1*m/(1-b1^(t+1)) + (1-b1)*g/(1-b1^t), over sqrt(v_hat) + eps (constant b1)",
             "Dozat, ICLR workshop (2016)", dict(_MOMENTS), dict(_MOMENTS_VARIED),
             "optax.nadam(lr, b1, b2, eps)", True, adaptive=True, decays=("b1", "b2"),
             alternatives=(_EPS_INSIDE, *_bias_alternatives(True),
                           # torch keeps the running product in float32 (its default scalar dtype) and
                           # a port may keep it in float64: one convention, two precisions, one label
                           *(Alternative("torch_nadam", _TORCH_NADAM, {"momentum_decay": 4e-3, **precision},
                                         _TORCH_NADAM_SEEN)
                             for precision in ({"mu_product_dtype": "float32"}, {})),
                           Alternative("keras_nadam", "Keras Nadam momentum schedule mu_t = b1(1 - 0.5*0.96^t), "
                                       "bias-corrected by the running product of mu", {"momentum_decay": 1.0},
                                       "keras.optimizers.Nadam (keras/src/optimizers/nadam.py, Keras 3.15.1: "
                                       "u_t = beta_1*(1 - 0.5*0.96**t), _u_product in the variable's dtype)"),
                           _GLOBAL)),
        Spec("adabelief", "s <- b2*s + (1-b2)*(g - m_t)^2 + eps_root; p <- p - lr*m_hat/(sqrt(s_hat) + eps)",
             "Zhuang et al. (NeurIPS 2020)",
             dict(b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16),
             dict(b1=0.5, b2=0.9, eps=1e-3, eps_root=1e-2),
             "optax.adabelief(lr, b1, b2, eps, eps_root)", True, adaptive=True, decays=("b1", "b2"),
             alternatives=(*_bias_alternatives(True),
                           Alternative("eps_root_in_update_only", "eps_root added to s_hat in the update, not stored in s",
                                       {"eps_root_in_update_only": True}),
                           Alternative("single_eps", "one eps, stored in s every step and added outside the root "
                                       "(eps_root ignored): s += eps; m_hat/(sqrt(s_hat) + eps)", {"single_eps": True},
                                       "adabelief-pytorch AdaBelief.step: exp_avg_var.add_(eps) in place, then "
                                       "/ sqrt(bias_correction2) + eps (0.1.0-0.2.1 with rectify=False); "
                                       "torch_optimizer.AdaBelief (jettify/pytorch-optimizer), rectify=False"),
                           Alternative("radam_rectified", "adabelief-pytorch's default RAdam rectification: "
                                       "-lr m/(1-b1^t) while N_sma < 5, then -lr r_t sqrt(1-b2^t)/(1-b1^t) "
                                       "m/(sqrt(s) + eps) with one eps stored in s",
                                       {"rectify": True, "single_eps": True},
                                       "adabelief_pytorch.AdaBelief defaults rectify=True, degenerated_to_sgd=True "
                                       "(0.1.0-0.2.1, juntang-zhuang/Adabelief-Optimizer pypi_packages)"),
                           Alternative("belief_uses_previous_m", "belief term uses m_(t-1) instead of m_t",
                                       {"belief_uses_previous_m": True}),
                           _GLOBAL)),
    ]
}

NAMES: tuple[str, ...] = tuple(SPECS)


def resolve_variant(spec: Spec, hp: dict[str, float], variant: dict[str, Any]) -> dict[str, Any]:
    """Variants may refer to hyperparameters by name (dampening = 'momentum')."""
    return {k: hp[v] if isinstance(v, str) and v in hp else v for k, v in variant.items()}
