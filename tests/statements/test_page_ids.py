"""A statement's page holds each element id once: its forms each carried a hidden
`id_revision`, and the live refresh (idiomorph) warned of duplicate ids on every approval,
where what someone was typing could be lost (from a new-user pass)."""

import re
from collections import Counter

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", ["draft", "in_review", "approved"])
def test_a_statement_page_has_no_duplicate_id(
    state, make_statement, browser_client, drafter, approver, spokesperson, lead
):
    statement = make_statement(state=state)
    for user in (drafter, approver, spokesperson, lead):
        page = browser_client.as_user(user).get(f"/statements/{statement.pk}/").text
        ids = Counter(re.findall(r'\sid="([^"]+)"', page))
        assert [name for name, n in ids.items() if n > 1] == [], (state, user.username)
