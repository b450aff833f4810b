"""Third-party-style optimizer candidates and what the harness must conclude about each.

Every entry names a factory ``MODULE:ATTR`` (called with optax's keyword names) and the spec it
claims to implement. ``expect="pass"`` entries are correct implementations in different styles;
``expect="fail"`` entries carry exactly one deliberate bug. ``diagnosis`` is set when a buggy
candidate's output coincides with a known alternative convention. ``notes`` says which regime
exposes a bug that is invisible at default settings.
"""

from typing import NamedTuple, Optional

_NUMPY_ADAM_RENAME = {"learning_rate": "lr", "b1": "beta1", "b2": "beta2"}
# numpy-ml's AdaGrad takes lr and eps; its **kwargs swallows initial_accumulator_value
_NUMPYML_ADAGRAD_RENAME = {"learning_rate": "lr"}
_AUTOGRAD_RMSPROP_RENAME = {"learning_rate": "step_size", "decay": "gamma"}
# adabelief-pytorch: betas=(b1, b2); it has no eps_root
_ADABELIEF_PYTORCH_RENAME = {"learning_rate": "lr", ("b1", "b2"): "betas", "eps_root": None}


class Candidate(NamedTuple):
    target: str  # "tests.candidates.buggy_adam:no_bias_correction", "torch.optim:Adam"
    reference: str  # canonical spec name: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamax, nadam, adabelief
    expect: str  # "pass" or "fail"
    bug: Optional[str]  # short human label; None for correct candidates
    bug_class: str  # see BUG_CLASSES; "correct" for correct candidates
    diagnosis: Optional[str] = None  # one of DIAGNOSES, or None
    style: Optional[str] = None  # implementation style (correct candidates)
    notes: str = ""
    adapter: Optional[str] = None  # None, or "numpy" for in-place NumPy classes
    rename: Optional[dict] = None  # optax keyword -> constructor keyword, for adapters
    only: bool = False  # every convention any failure names is `diagnosis`, in float32 and in float64

    @property
    def key(self) -> str:
        """What the run is told (--optim=TARGET@SPEC) and its report says: one target may serve several specs."""
        return f"{self.target}@{self.reference}"


BUG_CLASSES = (
    "eps-placement", "momentum-convention", "bias-correction", "eps-hat", "nadam-schedule",
    "optax-adagrad", "initial-accumulator", "rectification", "global-statistics", "ignored-hyperparameter",
    "impure", "mutation", "dtype-drift", "pytree", "nan", "schedule", "wrong-rule", "tracing", "precision", "correct",
)
DIAGNOSES = (
    "eps_inside_sqrt", "eps_outside_sqrt", "dampened_momentum", "first_step_buffer",
    "no_bias_correction_m", "no_bias_correction_v", "no_bias_correction", "bias_correction_off_by_one",
    "eps_hat", "torch_nadam", "optax_adagrad", "global_statistics", "keras_adamax",
    "keras_nadam", "zero_initial_accumulator", "accumulator_starts_at_one", "single_eps", "radam_rectified",
)

_M = "tests.candidates."


def _ok(target, reference, style, notes=""):
    return Candidate(_M + target, reference, "pass", None, "correct", None, style, notes)


def _bug(target, reference, bug, bug_class, diagnosis=None, notes=""):
    return Candidate(_M + target, reference, "fail", bug, bug_class, diagnosis, None, notes)


_DEFAULT_INVISIBLE = "invisible at default hyperparameters; "

CANDIDATES = [
    # ----------------------------------------------------------------- correct (expect pass)
    _ok("correct_sgd:sgd_dict", "sgd", "dict state"),
    _ok("correct_sgd:SGDClass", "sgd", "class with methods, tuple state"),
    _ok("correct_momentum:momentum_dict", "momentum", "dict state"),
    _ok("correct_momentum:momentum_lr_in_velocity", "momentum", "algebraic rewrite (Keras lr inside velocity)",
        notes="lr inside velocity: equals canonical only for constant lr"),
    _ok("correct_momentum:momentum_flat", "momentum", "flat vector (ravel_pytree)"),
    _ok("correct_nesterov:nesterov_optax", "nesterov", "optax chain (optax.sgd nesterov=True, float32 statistics)"),
    _ok("correct_nesterov:Nesterov", "nesterov", "class with methods, NamedTuple state, algebraic rewrite"),
    _ok("correct_adagrad:Adagrad", "adagrad", "class with methods, registered dataclass state"),
    _ok("correct_adagrad:adagrad_lax", "adagrad", "jax.lax primitives"),
    _ok("correct_rmsprop:rmsprop_optax", "rmsprop", "optax chain (optax.rmsprop eps_in_sqrt=False, float32 statistics)"),
    _ok("correct_rmsprop:rmsprop_tuple", "rmsprop", "plain tuple state, EMA as r + (1-decay)(g^2 - r)"),
    _ok("correct_adam:adam_optax_chain", "adam", "optax chain (scale_by_adam + scale_by_learning_rate, float32 statistics)"),
    _ok("correct_adam:adam_folded_step", "adam", "algebraic rewrite (bias corrections folded into alpha_t, eps_hat = eps*sqrt(1-b2^t))"),
    _ok("correct_adam:adam_float_counter", "adam", "float step counter"),
    _ok("correct_adam:adam_x64", "adam", "float64 internal arithmetic when x64 is on"),
    _ok("correct_adamax:adamax_flat", "adamax", "flat vector (ravel_pytree)"),
    _ok("correct_adamax:adamax_where", "adamax", "jnp.where / lax.pow formulation, tuple state"),
    _ok("correct_nadam:nadam_dict", "nadam", "dict state"),
    _ok("correct_nadam:nadam_optax_chain", "nadam", "optax chain (scale_by_adam nesterov=True, float32 statistics)"),
    _ok("correct_adabelief:AdaBelief", "adabelief", "class with methods, NamedTuple state"),
    _ok("correct_adabelief:adabelief_optax", "adabelief", "optax chain (optax.adabelief, float32 statistics)"),
    Candidate(_M + "numpy_style:NumpyAdam", "adam", "pass", None, "correct", None,
              "NumPy class, in-place step(params, grads)", adapter="numpy", rename=_NUMPY_ADAM_RENAME),
    Candidate(_M + "numpy_style:NumpySGD", "sgd", "pass", None, "correct", None,
              "NumPy class, p -= lr * g in place (judged in the parameters)", adapter="numpy",
              rename={"learning_rate": "lr"}),
    # constant float learning rates, as most from-scratch code: schedules / traced values not supported
    _ok("constant_lr:adam", "adam", "from scratch, float(learning_rate) at build time"),
    _ok("constant_lr:rmsprop", "rmsprop", "from scratch, float(learning_rate) at build time"),
    _ok("buggy_rmsprop:float_lr", "rmsprop", "float(lr) inside update: does not trace; runs eagerly",
        notes="was counted a bug before capabilities: refusing tracing is 'not supported', not wrong"),
    # torch.optim as it is: the class itself, no wrapper (pytest_optim.candidates.torch_style)
    *[Candidate(f"torch.optim:{cls}", n, "pass", None, "correct", None, f"torch.optim.{cls}, no wrapper")
      for cls, n in (("SGD", "sgd"), ("SGD", "momentum"), ("SGD", "nesterov"), ("Adagrad", "adagrad"),
                     ("RMSprop", "rmsprop"), ("Adam", "adam"), ("Adamax", "adamax"))],
    _ok("torch_variants:AdamForeach", "adam", "torch.optim.Adam(foreach=True), a user's subclass"),
    _ok("torch_variants:AdamSingleTensor", "adam", "torch.optim.Adam(foreach=False), a user's subclass"),
    # Keras 3 as it is, on the JAX backend through stateless_apply (pytest_optim.candidates.keras_style)
    Candidate("keras.optimizers:SGD", "sgd", "pass", None, "correct", None, "keras.optimizers.SGD, no wrapper"),
    # and wrapped as docs/third-party.md shows for any step(params, grads) code
    _ok("torch_wrapped:adam", "adam", "torch.optim.Adam wrapped through the NumPy adapter"),
    # ----------------------------------------------------------------- sgd
    _bug("buggy_sgd:sign_flipped", "sgd", "sign flipped (gradient ascent)", "wrong-rule"),
    _bug("buggy_sgd:lr_applied_twice", "sgd", "lr applied twice (lr^2)", "wrong-rule"),
    _bug("buggy_sgd:schedule_off_by_one", "sgd", "schedule called with count + 1", "schedule",
         notes="only visible with a non-constant schedule"),
    _bug("buggy_sgd:flat_dict_only", "sgd", "only handles a flat dict of arrays", "pytree",
         notes="raises on nested trees, tuples/lists and bare arrays"),
    # ----------------------------------------------------------------- momentum
    _bug("buggy_momentum:dampened", "momentum", "dampened momentum v <- mu*v + (1-mu)*g", "momentum-convention",
         "dampened_momentum"),
    _bug("buggy_momentum:torch_first_step_buffer", "momentum", "PyTorch first-step buffer with dampening",
         "momentum-convention", "first_step_buffer"),
    _bug("buggy_momentum:as_nesterov", "momentum", "momentum implemented as Nesterov", "wrong-rule"),
    _bug("buggy_momentum:ignores_momentum", "momentum", "momentum hard-coded to 0.9", "ignored-hyperparameter",
         notes=_DEFAULT_INVISIBLE + "needs momentum != 0.9"),
    _bug("buggy_momentum:mutates_state_dict", "momentum", "writes into the state dict passed in", "mutation",
         notes="trajectories are exact; only calling update twice on one state (eagerly) or checking the input state reveals it; invisible under jit"),
    # ----------------------------------------------------------------- nesterov
    _bug("buggy_nesterov:plain_momentum", "nesterov", "Nesterov implemented as plain momentum", "wrong-rule"),
    _bug("buggy_nesterov:float32_updates", "nesterov", "updates returned as float32 for every leaf", "dtype-drift",
         notes="values are right; only the update dtype of bf16/f16 (and f64 under x64) leaves is wrong"),
    _bug("buggy_nesterov:schedule_frozen", "nesterov", "schedule evaluated once at construction", "schedule",
         notes="only visible with a non-constant schedule"),
    # ----------------------------------------------------------------- adagrad
    _bug("buggy_adagrad:eps_inside_sqrt", "adagrad", "eps inside the sqrt", "eps-placement", "eps_inside_sqrt",
         notes=_DEFAULT_INVISIBLE + "with r0=0.1 eps never matters; needs large eps or initial_accumulator_value=0 with tiny "
         "gradients; numerically identical to optax_adagrad unless g^2 underflows to 0"),
    _bug("buggy_adagrad:optax_adagrad", "adagrad", "optax.adagrad (eps inside sqrt, zero where accumulator is 0)",
         "optax-adagrad", "optax_adagrad",
         notes=_DEFAULT_INVISIBLE + "same regimes as eps_inside_sqrt; the two are indistinguishable numerically"),
    _bug("buggy_adagrad:ignores_initial_accumulator", "adagrad", "initial_accumulator_value hard-coded to 0.1",
         "ignored-hyperparameter", notes=_DEFAULT_INVISIBLE + "needs initial_accumulator_value != 0.1"),
    _bug("buggy_adagrad:global_tree_statistics", "adagrad", "accumulator from the mean of g^2 over the whole tree",
         "global-statistics",
         notes="caught, not named: [global_statistics] is the mean over each leaf, which differs from the mean over "
         "the whole tree by more than the tolerance (it was named only at the old, looser 10 x rtol)"),
    _bug("buggy_adagrad:scalar_leaf_atleast_1d", "adagrad", "0-d leaves get shape-(1,) updates and state", "pytree",
         notes="values are right; shapes of 0-d leaves are not (apply_updates silently broadcasts the param to (1,))"),
    _bug("buggy_adagrad:numpy_state_in_place", "adagrad", "NumPy accumulators updated in place", "mutation",
         notes="eager trajectories are exact; update twice on one state differs; raises under jit/scan/vmap"),
    # ----------------------------------------------------------------- rmsprop
    _bug("buggy_rmsprop:eps_inside_sqrt", "rmsprop", "eps inside the sqrt (optax default)", "eps-placement",
         "eps_inside_sqrt", notes=_DEFAULT_INVISIBLE + "with O(1) gradients; visible with tiny gradients (1e-6) or large eps"),
    _bug("buggy_rmsprop:ignores_decay", "rmsprop", "decay hard-coded to 0.9", "ignored-hyperparameter",
         notes=_DEFAULT_INVISIBLE + "needs decay != 0.9"),
    _bug("buggy_rmsprop:nan_eps_precedence", "rmsprop", "g / sqrt(r) + eps (NaN for zero gradients)", "nan",
         notes="differs by ~eps with O(1) gradients; NaN for an all-zero gradient, ~1% off with 1e-6 gradients"),
    _bug("buggy_rmsprop:float64_state", "rmsprop", "state promoted to float64 under x64", "dtype-drift",
         notes="invisible without jax_enable_x64; with x64 a float32/bf16 state becomes float64 after the first step"),
    _bug("buggy_rmsprop:zero_size_skips_step", "rmsprop", "isfinite(mean(g)) guard: zero-size leaf skips every step",
         "pytree", notes="exact on trees without a zero-size leaf; with one, no leaf ever moves"),
    # ----------------------------------------------------------------- adam
    _bug("buggy_adam:eps_inside_sqrt", "adam", "eps inside the sqrt", "eps-placement", "eps_inside_sqrt",
         notes=_DEFAULT_INVISIBLE + "with O(1) gradients; visible with tiny gradients or large eps"),
    _bug("buggy_adam:no_bias_correction_m", "adam", "no bias correction on m", "bias-correction", "no_bias_correction_m"),
    _bug("buggy_adam:no_bias_correction_v", "adam", "no bias correction on v", "bias-correction", "no_bias_correction_v"),
    _bug("buggy_adam:no_bias_correction", "adam", "no bias correction at all", "bias-correction", "no_bias_correction"),
    _bug("buggy_adam:bias_correction_off_by_one", "adam", "bias corrections use b^(t+1)", "bias-correction",
         "bias_correction_off_by_one"),
    _bug("buggy_adam:keras_eps_hat", "adam", "TF/Keras eps-hat Adam", "eps-hat", "eps_hat",
         notes=_DEFAULT_INVISIBLE + "with O(1) gradients; visible with tiny gradients or large eps"),
    _bug("buggy_adam:nan_eps_precedence", "adam", "m_hat / sqrt(v_hat) + eps (NaN for zero gradients)", "nan",
         notes="differs by ~eps with O(1) gradients; NaN for an all-zero gradient"),
    _bug("buggy_adam:ignores_b2", "adam", "b2 hard-coded to 0.999", "ignored-hyperparameter",
         notes=_DEFAULT_INVISIBLE + "needs b2 != 0.999"),
    _bug("buggy_adam:leaf_mean_second_moment", "adam", "v from mean(g^2) over each leaf", "global-statistics",
         "global_statistics", notes="exact on scalar and size-1 leaves"),
    _bug("buggy_adam:schedule_one_based", "adam", "schedule called with the 1-based step t", "schedule",
         notes="only visible with a non-constant schedule"),
    _bug("buggy_adam:python_step_counter", "adam", "step counter in a Python closure variable", "impure",
         notes="eager single-stream trajectories are exact; update twice on one state, jit, scan or vmap reveal it"),
    _bug("buggy_adam:host_bias_correction", "adam", "bias correction silently skipped when traced", "tracing",
         notes="eager is exact; under jit/scan/vmap bias correction is dropped (looks like no_bias_correction)"),
    _bug("buggy_adam:single_array_only", "adam", "only handles a single array", "pytree",
         notes="exact when params is one bare array; raises for any container"),
    # ----------------------------------------------------------------- adamax
    _bug("buggy_adamax:keras_adamax", "adamax", "Keras Adamax: max(b2*u, |g|), divide by u + eps", "eps-placement",
         "keras_adamax", notes=_DEFAULT_INVISIBLE + "with O(1) gradients; visible with tiny gradients or large eps"),
    _bug("buggy_adamax:bias_correction_off_by_one", "adamax", "bias correction 1 - b1^(t+1)", "bias-correction",
         "bias_correction_off_by_one"),
    _bug("buggy_adamax:no_bias_correction", "adamax", "no bias correction", "bias-correction", "no_bias_correction_m"),  # adamax has only the first-moment correction
    _bug("buggy_adamax:ignores_eps", "adamax", "eps hard-coded to 1e-8", "ignored-hyperparameter",
         notes=_DEFAULT_INVISIBLE + "needs a large eps (e.g. 1e-3)"),
    # ----------------------------------------------------------------- nadam
    _bug("buggy_nadam:torch_nadam", "nadam", "PyTorch NAdam momentum schedule", "nadam-schedule", "torch_nadam"),
    _bug("buggy_nadam:keras_nadam", "nadam", "Keras Nadam momentum schedule (0.96^t)", "nadam-schedule",
         "keras_nadam", notes="named in the float32 regimes (it computes mu_t and their product in float32)"),
    _bug("buggy_nadam:lookahead_exponent_dropped", "nadam", "momentum term divided by 1 - b1^t instead of 1 - b1^(t+1)",
         "bias-correction"),
    _bug("buggy_nadam:bias_correction_off_by_one", "nadam", "every bias correction uses t+1", "bias-correction",
         "bias_correction_off_by_one"),
    _bug("buggy_nadam:no_bias_correction_v", "nadam", "no bias correction on v", "bias-correction", "no_bias_correction_v"),
    _bug("buggy_nadam:NadamWithStepAttribute", "nadam", "step counter in an object attribute", "impure",
         notes="eager single-stream trajectories are exact; update twice on one state, jit, scan or vmap reveal it"),
    # ----------------------------------------------------------------- adabelief
    _bug("buggy_adabelief:eps_root_only_in_update", "adabelief", "eps_root not accumulated into s", "eps-placement",
         notes=_DEFAULT_INVISIBLE + "with O(1) gradients (the stored eps_root adds eps_root/(1-b2) = 1e-13 to s_hat); "
         "visible with 1e-6 gradients at the defaults, or with eps_root >= 1e-8"),
    _bug("buggy_adabelief:belief_uses_previous_m", "adabelief", "belief term uses m_{t-1}", "wrong-rule"),
    _bug("buggy_adabelief:bias_correction_off_by_one", "adabelief", "bias corrections use b^(t+1)", "bias-correction",
         "bias_correction_off_by_one"),
    _bug("buggy_adabelief:ignores_eps", "adabelief", "eps hard-coded to 1e-16", "ignored-hyperparameter",
         notes=_DEFAULT_INVISIBLE + "needs a large eps (e.g. 1e-3)"),
    _bug("buggy_adabelief:adabelief_pytorch_port", "adabelief",
         "adabelief-pytorch's single eps (stored in s and outside the root; eps_root ignored), JAX port",
         "eps-placement", "single_eps",
         notes=_DEFAULT_INVISIBLE + "there eps == eps_root; visible when eps or eps_root is varied"),
    # ----------------------------------------------------------------- capabilities, precision, torch
    _bug("constant_lr:adam_schedule_one_based", "adam", "schedule called with the 1-based step", "schedule",
         notes="accepts a schedule and computes the wrong numbers: fails the schedule checks, nothing else"),
    _bug("constant_lr:adam_schedule_frozen", "adam", "schedule evaluated once when built", "schedule",
         notes="accepts a schedule and computes the wrong numbers: fails the schedule checks, nothing else"),
    Candidate(_M + "numpy_style:NumpySGDHalfStep", "sgd", "fail", "step computed in float16, applied in place",
              "precision", notes="relative error ~5e-4 per update: far above the parameters' rounding",
              adapter="numpy", rename={"learning_rate": "lr"}),
    Candidate("keras.optimizers:Adam", "adam", "fail", "keras.optimizers.Adam: eps-hat form", "eps-hat", "eps_hat",
              notes="the real library, as it is"),
    Candidate("keras.optimizers:RMSprop", "rmsprop", "fail", "keras.optimizers.RMSprop: eps inside the sqrt",
              "eps-placement", "eps_inside_sqrt", notes="the real library, as it is"),
    Candidate("keras.optimizers:Adagrad", "adagrad", "fail", "keras.optimizers.Adagrad: eps inside the sqrt",
              "eps-placement", "eps_inside_sqrt", notes="the real library, as it is"),
    Candidate("torch.optim:NAdam", "nadam", "fail", "torch.optim.NAdam: Dozat's momentum schedule",
              "nadam-schedule", "torch_nadam", notes="the real library, as it is", only=True),
    # ----------------------------------------------------------------- NumPy style (adapter)
    Candidate(_M + "numpy_style:NumpyAdamEpsInside", "adam", "fail", "eps inside the sqrt", "eps-placement",
              "eps_inside_sqrt", notes=_DEFAULT_INVISIBLE + "with O(1) gradients; visible with tiny gradients",
              adapter="numpy", rename=_NUMPY_ADAM_RENAME),
    # ----------------------------------------------------------------- library ports (NumPy adapter)
    Candidate(_M + "numpy_ports:NumpyMLAdaGrad", "adagrad", "fail",
              "numpy-ml AdaGrad: accumulator starts at 0 (initial_accumulator_value swallowed by **kwargs)",
              "initial-accumulator", "zero_initial_accumulator",
              notes="visible at the defaults (r0 = 0 instead of 0.1); the same rule when initial_accumulator_value=0",
              adapter="numpy", rename=_NUMPYML_ADAGRAD_RENAME),
    Candidate(_M + "numpy_ports:AutogradRMSprop", "rmsprop", "fail",
              "autograd rmsprop: avg_sq_grad starts at ones", "initial-accumulator", "accumulator_starts_at_one",
              notes="visible in the first ~100 steps (the r0 term decays like decay^t)",
              adapter="numpy", rename=_AUTOGRAD_RMSPROP_RENAME),
    Candidate(_M + "numpy_ports:AdaBeliefPytorch", "adabelief", "fail",
              "adabelief-pytorch 0.2 defaults: RAdam rectification (SGD steps while N_sma < 5), single eps",
              "rectification", "radam_rectified", notes="visible from step 1",
              adapter="numpy", rename=_ADABELIEF_PYTORCH_RENAME),
]

# The specs added later keep their candidates in one fragment module each (manifest_<spec>.py:
# CANDIDATES, and the diagnosis keys and bug classes they add). Imported here, after _ok / _bug.
SPEC_FRAGMENTS = ("adamw", "amsgrad", "radam", "lion", "signum", "lamb", "adadelta", "adafactor", "muon")


def _merge_fragments():
    import importlib

    global BUG_CLASSES, DIAGNOSES
    for name in SPEC_FRAGMENTS:
        fragment = importlib.import_module(f"tests.candidates.manifest_{name}")
        CANDIDATES.extend(fragment.CANDIDATES)
        DIAGNOSES += tuple(getattr(fragment, "NEW_DIAGNOSES", ()))
        BUG_CLASSES += tuple(getattr(fragment, "NEW_BUG_CLASSES", ()))


_merge_fragments()

assert all(c.bug_class in BUG_CLASSES for c in CANDIDATES)
assert all(c.diagnosis is None or c.diagnosis in DIAGNOSES for c in CANDIDATES)
assert len({c.key for c in CANDIDATES}) == len(CANDIDATES)  # one target may serve several specs
