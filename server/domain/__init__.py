"""Every business rule of SPEC.md, one folder per concept (core, orgs, trials, consent, timeline,
devices, calling, notifications, webhooks, partner_day, partner_settings, usage): plain async functions
over a session, raising DomainError, used alike by resolvers, jobs and the CLI. deadline_handlers.py
lists every deadline kind with its handler."""
