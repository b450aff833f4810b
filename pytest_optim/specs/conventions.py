"""Alternative conventions shared by several specs (each spec module lists the ones it can meet)."""

from __future__ import annotations

from pytest_optim.specs.record import Alternative

EPS_INSIDE = Alternative(
    "eps_inside_sqrt", "eps inside the square root: sqrt(v + eps)", {"eps_inside_sqrt": True},
    "optax/Keras rmsprop and adagrad defaults (optax #532, pytorch #23796)",
)
GLOBAL = Alternative(
    "global_statistics", "global instead of elementwise statistics (mean of g**2 over the leaf)",
    {"global_statistics": True},
)
DAMPENED = Alternative(
    "dampened_momentum", "dampened momentum: v = mu v + (1 - mu) g", {"dampening": "momentum"},
    "PyTorch SGD with dampening = momentum; EMA-style momentum",
)
LR_IN_VELOCITY = Alternative(
    "lr_in_velocity", "Keras form: lr inside the velocity (v = mu v + lr g; p -= v)", {"lr_in_velocity": True},
    "keras.optimizers.SGD; the same rule as the canonical one for a constant learning rate",
)
FIRST_STEP = Alternative(
    "first_step_buffer", "PyTorch first-step buffer with dampening: v_1 = g, then mu v + (1 - mu) g",
    {"first_step_buffer": True, "dampening": "momentum"}, "torch.optim.SGD",
)


def bias_alternatives(with_v: bool) -> tuple[Alternative, ...]:
    """Missing or off-by-one bias corrections, of the first moment (and the second, ``with_v``)."""
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


# Documented ranges of the hyperparameters the property-based tests draw from.
DECAY_RANGE = (0.0, 0.999)
EPS_RANGE = (1e-12, 1e-1)
MOMENTS_RANGES = {"b1": (0.0, 0.99), "b2": (0.5, 0.999), "eps": EPS_RANGE}
MOMENTS = dict(b1=0.9, b2=0.999, eps=1e-8)
MOMENTS_VARIED = dict(b1=0.5, b2=0.9, eps=0.1)
