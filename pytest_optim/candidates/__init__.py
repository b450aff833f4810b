"""What is under test: ``--optim`` parsed into candidates (``selection``) and the adapters that
let code written in other styles be driven as a transformation (``numpy_style``: in-place NumPy
and PyTorch-like classes). Imports no JAX."""
