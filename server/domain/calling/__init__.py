"""Calling trials: locations, numbers and their release (R-SVC-03, R-TIME-06)."""
