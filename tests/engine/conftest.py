"""The engine fixtures live in tests/_engine_fixtures.py (registered for every test by
tests/conftest.py); this module keeps ``from conftest import BACKENDS`` working here."""

from _engine_fixtures import BACKENDS, spark, to_backend  # noqa: F401
