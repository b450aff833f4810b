"""Step-throughput benchmarks: runners for ours / optax / a memory-bandwidth floor (``steps``), the
options and fixtures of the benchmark suite (pytest-benchmark underneath), plots of the results."""
