"""SPEC §11: the partner's own settings (R-SET-01: reminder days, recipients, sender name, reply-to,
logo; R-SET-02: email texts)."""
