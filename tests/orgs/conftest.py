"""Org tests use the trials' kit (tests/trials/conftest.py)."""
from tests.trials.conftest import kit  # noqa: F401 - the fixture, shared
