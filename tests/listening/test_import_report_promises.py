"""The import's report repeats what its preview promised (the rows stored as Other for a
platform the import does not know, the rows to check), by the preview's own counting; a
refusal naming a choice of the page links to it; a Turkish upper case platform name
("İNSTAGRAM") is read; a blank line among the title lines above the header is named, so
the lines counted are the file's; a header of names no preset knows stays the header above
a malformed row of column-like words."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.listening import actions, importing
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Mention

from .conftest import post
from .test_import_page import form_data, text_of, upload

pytestmark = pytest.mark.django_db

DASH = "\u2013"

FILE = (
    "Date,Author,Text,Url,Platform,Verified\n"
    "2026-11-30 09:12,@alice,Kettle lid melted,https://tumblr.com/a/1,Tumblr,yes\n"
    "2026-11-30 09:13,@bob,Lid again,https://threads.net/b/2,Threads,maybe\n"
    "2026-11-30 09:14,@carl,Lid story,https://tumblr.com/c/3,tumblr,no\n"
    "2026-11-30 09:15,@dan,Lid,https://x.com/d/status/4,Twitter,no\n"
    # Refused for its date: read as Other or not, never imported as Other.
    "not a date,@fay,Lid,https://tumblr.com/f/6,Tumblr,no\n"
)


def test_the_report_repeats_the_previews_rows_as_other_and_to_check(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    # One of the Tumblr posts is stored already (an earlier import): skipped, not counted
    # among the rows stored as Other.
    actions.mentions_ingest(
        mentions=[parse(post("https://tumblr.com/a/1", platform="other"))],
        source=Source.IMPORT,
        actor=None,
    )
    client = browser_client.as_user(importer)
    first = upload(client, FILE.encode())
    # Unticked, the note counts the rows refused for their platform alone, those ticking
    # imports: the one refused for its date is refused for it ticked or not (it was
    # counted among the 4 refused for their platform, the refusals blaming its date).
    html = text_of(first.content.decode())
    assert (
        "3 rows give a platform this import does not know, and are refused: “Tumblr” (2), "
        "“Threads” (1)."
    ) in html
    assert [(group.label, group.error[:26]) for group in first.context["errors"]] == [
        ("Lines 2, 4 (2 rows)", "The platform “Tumblr” is n"),
        ("Line 3", "The platform “Threads” is "),
        ("Line 6", "“not a date” is not a date"),
    ]
    preview = client.post(
        "/listening/import/", form_data(first, step="preview", unknown_as_other="on")
    )
    assert [error.line for error in preview.context["conversion"].errors] == [6]
    counts = preview.context["counts"]
    assert (counts.new, counts.stored, counts.other) == (3, 1, 2)
    html = text_of(preview.content.decode())
    assert "3 new mentions will be imported · " in html
    assert (
        " · 2 of them as “Other” (a platform this import does not know) · 1 already stored"
    ) in html
    assert " · 1 to check. " in html
    # "Read as", not "imported as": one of the three is stored already, skipped (the
    # figures count the 2 stored as Other), and the report repeats the note.
    note = (
        "3 rows give a platform this import does not know, read as “Other”: “Tumblr” "
        "(2), “Threads” (1)."
    )
    assert note in html

    done = client.post("/listening/import/", form_data(preview, step="import"))
    assert done.status_code == 200
    counts = done.context["counts"]
    assert (counts.new, counts.stored, counts.other) == (3, 1, 2)
    page = done.content.decode()
    assert re.search(r"a platform this import does not know\)</dt><dd data-other>2</dd>", page)
    assert re.search(
        r'<a href="#import-to-check">Imported, to check</a></dt><dd data-to-check>1</dd>', page
    )
    report = text_of(page)
    assert note in report
    assert "Line 3: “Verified” says “maybe”" in report
    assert sorted(Mention.objects.values_list("platform", flat=True)) == ["other"] * 3 + ["x"]


def test_a_report_without_rows_as_other_or_to_check_says_none(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, FILE.replace("maybe", "no").encode())
    # Unticked: the unknown platforms are refused, none is stored as Other.
    done = client.post("/listening/import/", form_data(first, step="import"))
    assert done.context["report"].stored == 1 and done.context["counts"].other == 0
    page = done.content.decode()
    assert "data-other>" not in page and "data-to-check>" not in page
    assert "give a platform this import does not know" not in text_of(page)
    # The refused rows are listed, their message naming the choice as text: the report
    # has no such box to link to.
    assert "Import rows with an unknown platform as Other" in text_of(page)
    assert 'href="#id_unknown_as_other"' not in page


def test_the_import_reads_its_queries_whatever_the_rows(
    importer, browser_client, settings, django_assert_max_num_queries
):
    """Counting the rows stored as Other takes no query: the ingest says what it stored.
    (Up to 40 rows: SQLite's bulk insert splits a longer batch, by its limit of variables.)"""
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)

    def queries(n):
        rows = "".join(
            f"2026-11-30 09:12,@u{n},Lid {i},https://tumblr.com/u/{n}-{i},Tumblr,maybe\n"
            for i in range(n)
        )
        first = upload(client, f"Date,Author,Text,Url,Platform,Verified\n{rows}".encode())
        preview = client.post(
            "/listening/import/", form_data(first, step="preview", unknown_as_other="on")
        )
        with CaptureQueriesContext(connection) as captured:
            done = client.post("/listening/import/", form_data(preview, step="import"))
        assert done.context["counts"].other == n
        return len(captured)

    assert queries(3) == queries(40)


def test_a_refusal_naming_a_choice_links_to_it(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    page = upload(client, (FILE + "2026-11-30 09:16,@eve,Lid,https://x.com/e/5,,no\n").encode())
    html = page.content.decode()
    # The box exists, with the id the links point to, and is an input (focusable).
    assert re.search(
        r'<input type="checkbox" name="unknown_as_other" id="id_unknown_as_other"', html
    )
    link = '<a href="#id_unknown_as_other">Import rows with an unknown platform as Other</a>'
    refused = html.split('id="import-refused"', 1)[1]
    # Each refused group of unknown platforms (Tumblr, Threads) and the note above.
    assert refused.count(link) == 2
    note = html.split('class="small warning import-unknown-platforms">', 1)[1].split("</p>")[0]
    assert link in note
    # An empty platform cell names the whole file's platform: linked too.
    assert '<a href="#id_platform">Platform when no column says</a>' in refused
    assert re.search(r'<select name="platform" id="id_platform"', html)


def test_the_link_follows_the_pages_language(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "fr"
    page = upload(browser_client.as_user(importer), FILE.encode())
    html = page.content.decode()
    assert (
        '<a href="#id_unknown_as_other">Importer les lignes d’une plateforme inconnue comme '
        "Autre</a>"
    ) in html


@pytest.mark.parametrize(
    ("written", "platform"),
    [
        ("İNSTAGRAM", "instagram"),  # Turkish upper case: a dotted capital I
        ("\u0131nstagram", "instagram"),  # Turkish lower case: a dotless i
        ("Instagram", "instagram"),
        ("INSTAGRAM", "instagram"),
        ("".join(chr(ord(c) + 0xFEE0) for c in "INSTAGRAM"), "instagram"),  # full width
        ("LİNKEDİN", "linkedin"),
        ("TİKTOK", "tiktok"),
        ("TWİTTER", "x"),  # an alias
        ("  IG ", "instagram"),
        ("Bsky", "bluesky"),
    ],
)
def test_platform_names_are_read_whatever_their_case(written, platform):
    table = importing.read_table(
        f"platform,id,text,posted_at\n{written},1,Lid,2026-11-30T09:00:00Z\n".encode()
    )
    options = importing.Options(mapping={k: k for k in ("platform", "id", "text", "posted_at")})
    conversion = importing.convert(table, options)
    assert conversion.errors == [] and conversion.unknown_platforms == {}
    assert [data.platform for _line, data in conversion.rows] == [platform]


def test_unknown_platforms_in_turkish_upper_case_are_counted_with_the_others():
    rows = "".join(
        f"{name},{n},Lid,2026-11-30T09:00:00Z\n"
        for n, name in enumerate(["İMGUR", "imgur", "Imgur", "Tumblr"])
    )
    table = importing.read_table(f"platform,id,text,posted_at\n{rows}".encode())
    options = importing.Options(mapping={k: k for k in ("platform", "id", "text", "posted_at")})
    conversion = importing.convert(table, options)
    # Counted under their first spelling; a name of its own stays its own.
    assert conversion.unknown_platforms == {"İMGUR": 3, "Tumblr": 1}
    assert importing.platform_key("İMGUR") == importing.platform_key("imgur") == "imgur"
    assert importing.platform_key("Tumblr") != importing.platform_key("Imgur")


def test_blank_lines_among_the_title_lines_are_named_with_their_numbers(settings):
    settings.LANGUAGE_CODE = "en"
    table = importing.read_table(
        b"Mentions export\n\n\nQuery: Maison\n\nDate,Url,Author,Full Text\n"
        b"2026-11-30T09:00:00Z,https://x.com/a/status/1,alice,Lid\n"
    )
    assert table.header_line == 6 and [line for line, _row in table.rows] == [7]
    assert table.skipped_note == (
        "Skipped 5 lines above the column names (line 6), no part of the table: “Mentions "
        f"export” (line 1), 2 blank lines (lines 2{DASH}3), “Query: Maison” (line 4), a blank "
        "line (line 5)."
    )
    # Blank lines alone above the column names: nothing skipped worth saying.
    table = importing.read_table(
        b"\n\nDate,Url,Author,Full Text\n2026-11-30T09:00:00Z,https://x.com/a/status/1,a,Lid\n"
    )
    assert table.columns == ["Date", "Url", "Author", "Full Text"]
    assert table.skipped_note == ""


@pytest.mark.parametrize(
    "content",
    [
        # A row with a cell too many, of words that are column names, and nothing else.
        "When,Who,What\nalice,Hello world,text,site\n",
        "When,Who,What\nalice,Hello world,text,site\nbob,Boo,link\n",
        "When,Who,What\nbob,Boo,link\nalice,Hello world,text,site\ncarl,Hi,link\n",
    ],
    ids=["alone", "then-a-row", "between-rows"],
)
def test_a_header_of_unknown_names_stays_above_a_malformed_row_of_column_names(content):
    table = importing.read_table(content.encode())
    assert table.columns == ["When", "Who", "What"]
    assert table.skipped == [] and table.header_line == 1
    assert [line for line, _row in table.rows] == list(range(2, content.count("\n") + 1))


def test_a_title_of_three_cells_above_a_header_and_its_rows_is_still_skipped():
    table = importing.read_table(
        b"Export,Demo Kettles,Nov 2026\nDate,Author,Text,Url,Platform\n"
        b"30/11/2026 09:12,@alice,Lid,https://x.com/a/status/1,Twitter\n"
        b"30/11/2026 09:13,@bob,Lid,https://x.com/b/status/2,Twitter\n"
    )
    assert table.columns == ["Date", "Author", "Text", "Url", "Platform"]
    assert table.skipped == [(1, "Export Demo Kettles Nov 2026")]
