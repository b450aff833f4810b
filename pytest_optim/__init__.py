"""pytest-optim: conformance test harness and benchmark for gradient-based optimizers.

Importing this package is cheap (no JAX); the heavy parts load when a check runs.
"""

__version__ = "0.1.0"
