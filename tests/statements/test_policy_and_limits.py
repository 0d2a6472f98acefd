"""Pure helpers (approval progress, platform limits, thread splitting, word diff) and the
approvals inbox selector."""

import itertools
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.safestring import SafeString

from incidents import actions as incident_actions
from statements import actions, selectors
from statements.diff import word_diff
from statements.limits import is_threadable, normalize, over_limit, split_thread
from statements.models import ApprovalPolicy, ApprovalRequirement, Review
from statements.policy import progress

ALL, ANY = ApprovalPolicy.Mode.ALL, ApprovalPolicy.Mode.ANY
_ids = itertools.count(1)
_clock = itertools.count()
T0 = timezone.now()


def policy(mode=ALL):
    return ApprovalPolicy(name=f"p{next(_ids)}", mode=mode)


def requirements(*pairs):
    """Unsaved requirements with increasing ids, in the order given: (step, function)."""
    return [ApprovalRequirement(pk=next(_ids), step=step, function=fn) for step, fn in pairs]


def approval(function, reviewer_id=None):
    """An unsaved approval, each one later than the previous."""
    return Review(
        pk=next(_ids),
        reviewer_id=reviewer_id or next(_ids),
        function=function,
        decision="approved",
        revision=1,
        created_at=T0 + timedelta(seconds=next(_clock)),
    )


def functions(reqs):
    return [(r.step, r.function) for r in reqs]


# --- policy.progress ----------------------------------------------------------------------


def test_without_requirements_any_one_approver_is_enough():
    assert not progress(policy(), [], []).complete
    assert progress(policy(), [], []).can_sign("")
    done = progress(policy(), [], [approval("")])
    assert done.complete and done.missing == []


def test_ordered_policy_opens_step_one_first():
    reqs = requirements((2, "communications"), (1, "legal"))  # given out of order
    state = progress(policy(), reqs, [])
    assert not state.complete and state.open_step == 1
    assert functions(state.missing) == [(1, "legal"), (2, "communications")]
    assert state.can_sign("legal")
    assert not state.can_sign("communications")
    assert not state.can_sign("")  # a generalist does not sign for legal


def test_once_step_one_is_met_step_two_opens():
    reqs = requirements((1, "legal"), (2, "communications"))
    legal = approval("legal")
    state = progress(policy(), reqs, [legal])
    assert not state.complete and state.open_step == 2
    assert [(functions([r])[0], a) for r, a in state.met] == [((1, "legal"), legal)]
    assert state.can_sign("communications") and not state.can_sign("legal")


def test_every_requirement_met_completes_and_nobody_else_can_sign():
    reqs = requirements((1, "legal"), (2, "communications"))
    state = progress(policy(), reqs, [approval("legal"), approval("communications")])
    assert state.complete and state.missing == [] and state.open_step is None
    assert not any(state.can_sign(f) for f in ("", "legal", "communications", "executive"))


def test_each_approval_meets_at_most_one_requirement():
    reqs = requirements((1, ""), (1, ""))
    state = progress(policy(), reqs, [approval("legal")])
    assert not state.complete and len(state.met) == 1 and len(state.missing) == 1
    assert state.can_sign("communications")


def test_a_generalist_requirement_accepts_any_function():
    reqs = requirements((1, ""))
    assert progress(policy(), reqs, [approval("executive")]).complete


def test_a_specific_requirement_is_not_met_by_another_function():
    reqs = requirements((1, "legal"))
    state = progress(policy(), reqs, [approval("communications"), approval("")])
    assert not state.complete and functions(state.missing) == [(1, "legal")]


def test_a_generalist_listed_first_does_not_take_the_only_legal_approval():
    # "Legal and one other approver", the generalist requirement created first. Legal signs,
    # then a generalist: both requirements can be met (legal -> legal, generalist -> any), so
    # the policy is complete whatever order the requirements or the approvals came in.
    reqs = requirements((1, ""), (1, "legal"))
    state = progress(policy(), reqs, [approval("legal"), approval("")])
    missing = functions(state.missing)
    assert missing == [], "a valid assignment exists, yet the greedy matching left these"
    assert state.complete is True


def test_in_any_mode_one_met_requirement_is_enough_whatever_its_step():
    reqs = requirements((1, "legal"), (2, "communications"))
    state = progress(policy(ANY), reqs, [])
    assert not state.complete
    assert state.can_sign("legal") and state.can_sign("communications")
    assert not state.can_sign("executive")
    done = progress(policy(ANY), reqs, [approval("communications")])
    assert done.complete and not done.can_sign("legal")


# --- limits -------------------------------------------------------------------------------


def test_normalize_unifies_line_ends_and_trims():
    assert normalize("  one\r\ntwo \r\n") == "one\ntwo"
    assert normalize(None) == ""


@pytest.mark.parametrize(
    "channel,length,excess",
    [
        ("x", 280, 0),
        ("x", 281, 1),
        ("instagram", 2_300, 100),
        ("linkedin", 3_000, 0),
        ("press_release", 40_000, 0),
        ("email", 40_000, 0),
        ("crisis_center", 40_000, 0),
    ],
)
def test_over_limit_counts_the_excess_characters(channel, length, excess):
    assert over_limit("a" * length, channel) == excess


def test_only_x_is_threadable():
    assert is_threadable("x")
    assert not any(is_threadable(c) for c in ("facebook", "instagram", "press_release"))


def test_a_text_that_fits_is_one_unnumbered_post():
    assert split_thread("  Short and sweet.  ", 280) == ["Short and sweet."]


def strip_number(post):
    return re.sub(r" \(\d+/\d+\)$", "", post)


def check_thread(thread, limit):
    n = len(thread)
    assert n > 1
    for i, post in enumerate(thread, 1):
        assert len(post) <= limit, (i, len(post))
        assert post.endswith(f" ({i}/{n})"), post


def sentences(count, words=12):
    return " ".join(
        f"Sentence {i} " + " ".join(f"word{i}x{j}" for j in range(words)) + "."
        for i in range(1, count + 1)
    )


def test_a_long_text_splits_into_numbered_posts_that_fit():
    text = sentences(20)
    thread = split_thread(text, 280)
    check_thread(thread, 280)
    assert " ".join(strip_number(p) for p in thread) == text


def test_the_thread_breaks_between_sentences():
    text = sentences(20)
    for post in split_thread(text, 280):
        assert strip_number(post).endswith(".")
        assert strip_number(post).startswith("Sentence ")


def test_a_sentence_longer_than_a_post_breaks_between_words():
    text = " ".join(f"w{i:04d}" for i in range(150)) + "."
    thread = split_thread(text, 280)
    check_thread(thread, 280)
    assert " ".join(strip_number(p) for p in thread).split() == text.split()


def test_a_word_longer_than_a_post_is_cut_to_fit():
    word = "Merci" + "i" * 600  # not a URL: X counts every character of it
    thread = split_thread(word, 280)
    check_thread(thread, 280)
    assert "".join(strip_number(p) for p in thread) == word


def test_cutting_a_long_word_keeps_the_text_in_order():
    text = "Read our full statement: " + "a" * 400 + " Thank you."
    thread = split_thread(text, 280)
    check_thread(thread, 280)
    assert "".join(strip_number(p).replace(" ", "") for p in thread) == text.replace(" ", "")


def test_a_long_url_is_never_cut():
    url = "https://example.org/" + "a" * 600  # X counts any URL as 23
    assert split_thread(f"Read our full statement here: {url} Thank you.", 280) == [
        f"Read our full statement here: {url} Thank you."
    ]


def test_every_post_fits_even_in_a_thread_of_more_than_99_posts():
    text = sentences(120, words=37)  # about 33,000 characters, some 120 posts
    thread = split_thread(text, 280)
    assert len(thread) > 99
    check_thread(thread, 280)


# --- diff.word_diff -----------------------------------------------------------------------


def test_the_diff_marks_removed_and_added_words():
    html = word_diff("We regret the post.", "We apologise for the post.")
    assert isinstance(html, SafeString)
    assert "<del>regret</del>" in html and "<ins>apologise for</ins>" in html
    assert html.startswith("We ") and html.endswith(" the post.")


def test_a_rewritten_passage_is_one_deletion_then_one_insertion():
    """Word by word, a legal reader got "~~You~~We ~~are~~take ~~right~~every"."""
    html = word_diff("You are right to flag it.", "We take every report seriously.")
    assert html.count("<del>") == 1 and html.count("<ins>") == 1
    assert "<del>You are right to flag it.</del>" in html
    assert "<ins>We take every report seriously.</ins>" in html
    # Unchanged words between two changes stay outside them.
    html = word_diff("We regret the post today.", "We apologise for the post now.")
    assert html == (
        "We <del>regret</del><ins>apologise for</ins> the post <del>today.</del><ins>now.</ins>"
    )


def test_the_diff_of_identical_texts_marks_nothing():
    assert word_diff("Same text.", "Same text.") == "Same text."


def test_the_diff_escapes_html_in_the_texts():
    html = word_diff("Hello <b>team</b>", "Hello <script>alert('x')</script> & co")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp; co" in html
    assert "&lt;b&gt;" in html
    assert re.sub(r"</?(ins|del)>", "", html).count("<") == 0


# --- selectors.approvals_inbox -------------------------------------------------------------


def pks(statements):
    return sorted(s.pk for s in statements)


def test_the_inbox_lists_only_what_waits_for_me_now(
    make_statement,
    drafter,
    approver,
    second_approver,
    legal,
    communications,
    ordered_policy,
    make_policy,
    declare,
):
    waiting = make_statement(state="in_review", title="waits for any approver")
    own = make_statement(author=approver, state="in_review", title="written by me")
    two = make_policy("Two approvers", [(1, ""), (1, "")])
    signed = make_statement(state="in_review", title="I already signed", approval_policy=two)
    actions.statement_approve(statement=signed, actor=approver, revision=1)
    ordered = make_statement(state="in_review", title="legal first", approval_policy=ordered_policy)
    make_statement(title="still a draft")
    done = make_statement(state="in_review", title="approved")
    actions.statement_approve(statement=done, actor=second_approver, revision=1)
    declare(title="Not my cell")  # the approver is not in this incident's cell

    assert pks(selectors.approvals_inbox(approver)) == pks([waiting])
    assert pks(selectors.approvals_inbox(second_approver)) == pks([waiting, own, signed])
    assert pks(selectors.approvals_inbox(legal)) == pks([waiting, own, signed, ordered])
    # Communications signs "any approver" statements, but not the ordered one before legal.
    assert pks(selectors.approvals_inbox(communications)) == pks([waiting, own, signed])
    actions.statement_approve(statement=ordered, actor=legal, revision=1)
    assert ordered.pk in pks(selectors.approvals_inbox(communications))
    assert ordered.pk not in pks(selectors.approvals_inbox(legal))
    assert selectors.approvals_inbox(drafter) == []


def test_the_inbox_drops_a_statement_i_revised(make_statement, drafter, approver, second_approver):
    statement = make_statement(state="in_review")
    actions.statement_edit(statement=statement, actor=approver, text="My edit.", base_revision=1)
    assert selectors.approvals_inbox(approver) == []
    assert pks(selectors.approvals_inbox(second_approver)) == [statement.pk]


def test_the_inbox_of_someone_who_left_the_cell_is_empty(
    make_statement, drafter, approver, lead, incident
):
    make_statement(state="in_review")
    incident_actions.member_remove(incident=incident, actor=lead, user=approver)
    assert selectors.approvals_inbox(approver) == []


@pytest.mark.parametrize("count", [3, 15])
def test_the_inbox_costs_the_same_queries_for_3_or_15_statements(
    count,
    make_statement,
    drafter,
    approver,
    legal,
    communications,
    ordered_policy,
    make_policy,
    django_assert_max_num_queries,
):
    two = make_policy("Two approvers", [(1, ""), (1, "")])
    for n in range(count):
        statement = make_statement(
            state="in_review", title=f"s{n}", approval_policy=[None, ordered_policy, two][n % 3]
        )
        if n % 3 == 2:
            actions.statement_approve(statement=statement, actor=legal, revision=1)
    # Memberships, statements, requirements, reviews, revisions, escalations, the cells.
    with django_assert_max_num_queries(7):
        inbox = selectors.approvals_inbox(approver)
        titles = [s.title for s in inbox]
        authors = [s.author.username for s in inbox]
        progress_ = [s.progress.missing for s in inbox]
    assert len(titles) == len(authors) == len(progress_) == count - count // 3
