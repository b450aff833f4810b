"""Repository conftest: the project's own tests import their helpers from tests/."""
