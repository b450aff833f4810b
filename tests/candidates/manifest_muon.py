"""Candidates for the "muon" spec and the verdicts measured for them (the lead wires this into manifest.py).

Verdicts were measured with ``--optim-spec=pytest_optim.specs.muon --optim=TARGET@muon`` before muon was a
built-in spec. Two checks then fail for *every* muon candidate, correct or not, until the core changes in
the muon report are made: ``test_first_two_steps`` (the closed form is called on the flattened 7-vector,
not per leaf) and ``test_converges_to_minimizer[quadratic_k10]`` (Muon's 2-D steps keep a spectral norm ~lr
at a constant learning rate: the float64 rule itself ends 0.0455 from x*). The "pass" entries pass
everything else.
"""

from tests.candidates.manifest import Candidate, _bug, _ok

_INVISIBLE = "invisible at default hyperparameters; "
_TINY = "only through eps: visible in the tiny-gradient (x1e-6) regimes and with eps varied; "

CANDIDATES = [
    # ----------------------------------------------------------------- correct (expect pass)
    # The rule right, in a style people write (a class, dict state, constant float lr, **kwargs, tall
    # matrices transposed for the iteration), and one real defect: its state is created with
    # jnp.zeros(shape), so on sharded parameters every device holds all of it (docs/checks.md, sharding).
    _bug("correct_muon:Muon", "muon", "state created with jnp.zeros(shape): replicated on every device, not sharded "
         "like its parameter", "sharding",
         notes="passes every other check; schedules and traced hyperparameters: not supported (float(learning_rate))"),
    _ok("correct_muon:muon_optax_partition", "muon", "optax.partition: own NS transform written on the right "
        "(X (b XtX + c (XtX)^2), no transposition) + add_decayed_weights, optax.nadam for the other leaves"),
    _ok("correct_muon:muon_optax_contrib", "muon", "optax.contrib.muon fed float32 (float32 statistics for narrow leaves)"),
    # ----------------------------------------------------------------- other conventions
    _bug("buggy_muon:jordan_momentum", "muon", "Jordan/torch momentum: EMA lerp, Nesterov lerp, no bias correction",
         "momentum-convention", "uncorrected_momentum",
         notes="visible in the first ~200 steps (the bias corrections change the mix of m and g); "
         "[heavy_ball_momentum] is named second where eps cannot separate the two"),
    _bug("buggy_muon:heavy_ball", "muon", "heavy-ball buffer m = beta m + g, Nesterov g + beta m (Moonlight, Keras)",
         "momentum-convention", "heavy_ball_momentum",
         notes="at O(1) gradients the same direction as [uncorrected_momentum] (named second there); told apart "
         "through eps"),
    _bug("buggy_muon:no_nesterov", "muon", "orthogonalises m itself (nesterov=False)", "momentum-convention",
         "no_nesterov"),
    _bug("buggy_muon:torch_layout_scale", "muon", "torch's sqrt(max(1, A/B)) on a JAX (in, out) kernel",
         "muon-shape-scale", "transposed_layout",
         notes="visible only on non-square kernels: matrix_least_squares (6, 4); the quadratics' (2, 2) kernel "
         "scales the same"),
    _bug("buggy_muon:moonlight_scale", "muon", "Moonlight 0.2 sqrt(max(A, B)) scale", "muon-shape-scale",
         "match_rms_adamw"),
    _bug("buggy_muon:norm_clamp", "muon", "X / max(||X||_F, eps) (torch.optim.Muon)", "eps-placement", "norm_clamp",
         notes=_TINY),
    _bug("buggy_muon:spectral_norm", "muon", "X / (||X||_2 + eps) before the iteration", "muon-normalisation",
         "spectral_normalisation"),
    _bug("buggy_muon:svd_polar", "muon", "exact U V^T by SVD instead of Newton-Schulz", "muon-orthogonalisation",
         "svd_polar"),
    _bug("buggy_muon:cubic_newton_schulz", "muon", "classic cubic Newton-Schulz coefficients", "muon-orthogonalisation",
         "cubic_newton_schulz"),
    _bug("buggy_muon:adam_on_vectors", "muon", "plain Adam (no Nesterov) on the non-2-D leaves", "momentum-convention",
         "plain_adam_leaves"),
    # ----------------------------------------------------------------- plain bugs
    _bug("buggy_muon:ignores_beta", "muon", "beta hard-coded to 0.95", "ignored-hyperparameter",
         notes=_INVISIBLE + "needs beta != 0.95"),
    _bug("buggy_muon:bfloat16_newton_schulz", "muon", "Newton-Schulz in bfloat16 (the reference code's GPU habit)",
         "precision"),
    _bug("buggy_muon:decay_on_every_leaf", "muon", "weight_decay applied to the non-2-D leaves too", "wrong-rule",
         notes=_INVISIBLE + "needs weight_decay != 0"),
    _bug("buggy_muon:six_steps", "muon", "six Newton-Schulz iterations", "wrong-rule"),
    _bug("buggy_muon:no_normalisation", "muon", "momentum not normalised before the iteration", "wrong-rule"),
    # ----------------------------------------------------------------- the real libraries, as they are
    Candidate("optax.contrib:muon", "muon", "pass", None, "correct", None, "optax.contrib.muon, no wrapper",
              notes="measured 57 passed, 0 failed beyond the 3 core-change checks, 2 n/a"),
    # torch.optim.Muon is not here: it refuses the harness's 1-D leaves at start-up, one line and exit
    # status 4 (tests/test_torch.py::test_misuse_is_one_line_before_anything_runs[matrix-only-class])
    Candidate("keras.optimizers:Muon", "muon", "fail", "keras.optimizers.Muon: heavy-ball momentum, Moonlight scale, "
              "eps-hat Adam without Nesterov on the vectors", "momentum-convention",
              notes="measured 11 passed, 46 failed, 5 n/a; several conventions at once: 'no known convention' in 40 failures, [plain_adam_leaves] in 1"),
]

NEW_DIAGNOSES = ("uncorrected_momentum", "heavy_ball_momentum", "no_nesterov", "transposed_layout", "match_rms_adamw",
                 "norm_clamp", "spectral_normalisation", "svd_polar", "cubic_newton_schulz", "plain_adam_leaves")
NEW_BUG_CLASSES = ("muon-shape-scale", "muon-normalisation", "muon-orthogonalisation", "sharding")
