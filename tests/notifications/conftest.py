"""The outbox sender's tests use the timeline's mail server and worker runtime (tests/timeline/conftest.py)."""
from tests.timeline.conftest import runtime, smtp_sink  # noqa: F401 - the fixtures, shared
