"""The core every concept uses: the actor, errors, permissions (R-ROLE-02), tenant visibility (R-ORG-02), audit (SPEC §9) and idempotency."""
