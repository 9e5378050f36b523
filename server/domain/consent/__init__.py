"""The existing-customer flow: consent requests (R-EX-01..05) and their timeout (R-EX-06, timeout.py)."""
