"""The live server (`trialdesk serve` on the test database) of the page tests, for the fuzzers."""
from tests.pages.conftest import live_server  # noqa: F401
