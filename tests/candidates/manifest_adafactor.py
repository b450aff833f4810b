"""Candidates of the "adafactor" spec and what the harness concludes about each (wired into manifest.py by the lead).

Verdicts measured with ``--optim=TARGET@adafactor`` on suites/test_oracle.py, the hyperparameter checks and the
first-steps check (and, for the correct ones, every suite but workloads and benchmarks).
"""

from tests.candidates.manifest import Candidate, _bug, _ok

_INVISIBLE = "invisible at default hyperparameters; "

NEW_BUG_CLASSES = ("factoring", "update-clipping", "relative-step", "weight-decay")
NEW_DIAGNOSES = ("unfactored", "relative_step_cap", "clip_inverted", "no_parameter_scale", "momentum_on_gradient",
                 "decay_times_lr", "decay_times_scaled_lr", "torch_eps")

CANDIDATES = [
    _ok("correct_adafactor:adafactor_dict", "adafactor", "from scratch, dict state, float(learning_rate), paper sums"),
    _ok("correct_adafactor:Adafactor", "adafactor", "class with methods, tuple state, schedules"),
    _ok("correct_adafactor:adafactor_optax_chain", "adafactor",
        "optax chain (scale_by_factored_rms with a float64-capable decay_rate_fn, float32 statistics)"),
    _bug("buggy_adafactor:optax_default_min_dim", "adafactor", "min_dim_size_to_factor swallowed, optax's 128 kept",
         "factoring", "unfactored", notes="visible on every leaf of rank 2 (the (2, 2) kernels, the matrix regime)"),
    _bug("buggy_adafactor:clip_inverted", "adafactor", "update clipping inverted: U / min(1, RMS(U)/d)",
         "update-clipping", "clip_inverted"),
    _bug("buggy_adafactor:no_parameter_scale", "adafactor", "step lr*U_hat, no max(1e-3, RMS(p)) scale",
         "relative-step", "no_parameter_scale"),
    _bug("buggy_adafactor:relative_step_cap", "adafactor", "rho_t = min(lr, 1/sqrt(t)) (torch, Keras)",
         "relative-step", "relative_step_cap",
         notes="visible only after 1/lr^2 steps: the 2000-step regime at lr 0.05 (t > 400)"),
    _bug("buggy_adafactor:momentum_on_gradient", "adafactor", "Adam-style EMA of G before normalising",
         "momentum-convention", "momentum_on_gradient", notes=_INVISIBLE + "needs momentum > 0"),
    _bug("buggy_adafactor:decay_times_lr", "adafactor", "weight decay -lr*wd*p (torch)", "weight-decay",
         "decay_times_lr", notes=_INVISIBLE + "needs weight_decay_rate > 0"),
    _bug("buggy_adafactor:decay_times_scaled_lr", "adafactor", "weight decay -lr*max(1e-3, RMS(p))*wd*p (transformers)",
         "weight-decay", "decay_times_scaled_lr", notes=_INVISIBLE + "needs weight_decay_rate > 0"),
    _bug("buggy_adafactor:torch_eps", "adafactor", "torch's eps1 clamps instead of eps in G^2", "eps-placement",
         "torch_eps", notes=_INVISIBLE + "with O(1) gradients; the tiny-gradient regime in float32"),
    _bug("buggy_adafactor:ignores_decay_rate", "adafactor", "decay_rate hard-coded to 0.8", "ignored-hyperparameter",
         notes=_INVISIBLE + "needs decay_rate != 0.8"),
    _bug("buggy_adafactor:ignores_clipping_threshold", "adafactor", "clipping_threshold hard-coded to 1",
         "ignored-hyperparameter", notes=_INVISIBLE + "needs clipping_threshold != 1"),
    _bug("buggy_adafactor:constant_beta2", "adafactor", "constant beta2 = 0.999 instead of 1 - t^-0.8", "wrong-rule"),
    _bug("buggy_adafactor:unnormalised_factors", "adafactor", "V_hat = R C without / mean(R)", "wrong-rule"),
    _bug("buggy_adafactor:flat_vector", "adafactor", "the tree raveled into one vector: one RMS, nothing factored",
         "global-statistics"),
    # the real libraries, as they are
    Candidate("optax:adafactor", "adafactor", "fail", "optax.adafactor: beta2_t computed in float32 under x64",
              "precision", notes="the float32 regimes pass; float64 ones differ by ~1e-7 relative "
              "(factorized._decay_rate_pow rounds t^-0.8 in float32)"),
    Candidate("torch.optim:Adafactor", "adafactor", "fail", "torch.optim.Adafactor: rho_t = min(lr, 1/sqrt(t)), "
              "eps1 clamps", "relative-step", "relative_step_cap", notes="the real library, as it is"),
    # Its relative-step cap shows only in the 2000-step float64 regime, where its learning rate, kept in a
    # float32 variable (about 2e-8 off from step 1 in every float64 regime), already fails unexplained.
    Candidate("keras.optimizers:Adafactor", "adafactor", "fail", "keras.optimizers.Adafactor: rho_t = min(lr, 1/sqrt(t)), "
              "learning rate in a float32 variable", "relative-step", None, notes="the real library, as it is"),
]
