"""The deadline registry (server/domain/deadline_handlers.py): every kind has exactly one handler, and a
kind left out stops start-up with its name instead of failing row by row in the sweep."""
from __future__ import annotations

import pytest

from server.domain import deadline_handlers
from server.domain.timeline.deadlines import DeadlineKind


def test_every_deadline_kind_has_one_handler():
    deadline_handlers.check()
    assert set(deadline_handlers.HANDLERS) == set(DeadlineKind)


def test_a_kind_without_a_handler_fails_loudly_naming_it():
    one_by_one = {k: v for k, v in deadline_handlers.ONE_BY_ONE.items() if k != DeadlineKind.GRACE_END}
    with pytest.raises(RuntimeError, match="grace_end"):
        deadline_handlers.check(one_by_one, deadline_handlers.BATCHED)


def test_a_kind_with_two_handlers_fails_loudly_naming_it():
    batched = {**deadline_handlers.BATCHED, DeadlineKind.GRACE_END: deadline_handlers.BATCHED[DeadlineKind.TRIAL_EXPIRY]}
    with pytest.raises(RuntimeError, match="grace_end"):
        deadline_handlers.check(deadline_handlers.ONE_BY_ONE, batched)


def test_the_start_up_error_says_where_the_handlers_are_registered():
    """Kills (make mutate, fresh run): the message's `"(server/domain/deadline_handlers.py)"` changed
    (`check`): the error tells the developer which file to add the handler to, whole."""
    one_by_one = {k: v for k, v in deadline_handlers.ONE_BY_ONE.items() if k != DeadlineKind.GRACE_END}
    with pytest.raises(RuntimeError) as raised:
        deadline_handlers.check(one_by_one, deadline_handlers.BATCHED)
    assert str(raised.value) == ("deadline kinds without a handler: ['grace_end']; with two: [] "
                                 "(server/domain/deadline_handlers.py)")
