"""Webhooks: endpoints, events, fan-out, delivery attempts, the log, secrets and URL checks."""
