"""The conformance core: problems with known answers, the trajectory runner, the float64 comparison
and its derived tolerances, and the check families (oracle, optax, analytic, properties, sharding,
capabilities). Each check builds the candidate, runs it, compares and returns a ``Result`` or raises
``CheckFailure`` / ``NotApplicable`` / ``NotSupported``."""
