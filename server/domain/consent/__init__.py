"""The existing-customer flow: consent requests (R-EX-01..06)."""
