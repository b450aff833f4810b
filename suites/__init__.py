"""The bundled conformance suites; `pytest --optim=...` collects them from wherever they are installed."""
