"""Emails (SPEC §8): the outbox, rendering, recipients and who is notified of what."""
