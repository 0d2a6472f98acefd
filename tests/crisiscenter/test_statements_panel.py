"""The room's statements panel leaves a crisis page's texts to their own panel (they crowded
it, ten a page, and counted as "in progress"): it says how many there are and where."""

import re

from statements import actions as statement_actions
from statements.models import Statement


def test_the_statements_panel_lists_no_crisis_page_text_and_says_where_they_are(
    dark_page, browser_client, drafter, incident
):
    texts = dark_page.texts.count()
    assert texts == 9
    holding = statement_actions.statement_create(
        incident=incident, actor=drafter, kind="holding", channel="x", language="en", text="Hi"
    )
    panel = browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/statements/").text

    listed = [int(pk) for pk in re.findall(r'data-statement="(\d+)"', panel)]
    assert listed == [holding.pk]
    assert '<span class="count">1</span>' in panel
    assert (
        "The crisis page's 9 texts (summary, FAQ…) are in" in panel
        and 'href="#crisis-page-title"' in panel
    )
    assert Statement.objects.filter(incident=incident).count() == 10
