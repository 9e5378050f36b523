"""Webhook signing secrets at rest (server/domain/webhooks/secrets.py): a secret stored by an earlier
release decrypts with the same SECRET_KEY after an upgrade, and one stored under another SECRET_KEY
does not, saying to rotate it. Pure: no database."""
from __future__ import annotations

import pytest

from server.domain.webhooks import secrets

KEY = "a SECRET_KEY of an earlier release"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#: `secrets.encrypt(KEY, SECRET)` as stored on 2026-12-07: endpoints made before an upgrade keep it.
STORED = "v1.IR8NpNT0Kwvj8XiEbi91AJU3gOuc2H1D9fYVnDW1FCv5bCLlgRRrWssz4B7UOn40MGtyuIwG37EXlVsJg2aVW0R3GwjmDA=="


def test_a_secret_stored_by_an_earlier_release_still_decrypts():
    """Kills the key derivation's fixed label changed (`secrets._key`: "trialdesk webhook secrets: "
    -> "XX…XX", a survivor of `make mutate`: every stored secret would stop decrypting)."""
    assert secrets.decrypt(KEY, STORED) == SECRET
    assert secrets.decrypt(KEY, secrets.encrypt(KEY, SECRET)) == SECRET


def test_a_secret_stored_under_another_secret_key_says_to_rotate_it():
    """The delivery's error (jobs/webhooks.py shows it in the delivery log). Kills the message changed
    (`secrets.decrypt`'s SecretUnreadable, a survivor of `make mutate`)."""
    with pytest.raises(secrets.SecretUnreadable) as raised:
        secrets.decrypt("another SECRET_KEY, set since", STORED)
    assert str(raised.value) == "the webhook secret does not decrypt with this SECRET_KEY: rotate the secret"
