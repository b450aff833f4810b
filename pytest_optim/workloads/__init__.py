"""Real workloads: MNIST / CIFAR-10 / IMDB read offline through tensorflow-datasets (``data``), small
Flax-free JAX models (``models``), the training loop (``training``), and the options and fixtures
of the workload suite."""
