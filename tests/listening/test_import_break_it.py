"""What a new user and a break-it pass found in the import: the rows an unknown platform
refuses are the rows ticking "as Other" imports (a row also refused for its date is not
one); a date whose form is read but that the calendar has not (30 February) is said not
to exist, by the import and the bulk API alike; Excel's "sep=;" line is counted among the
lines skipped above the column names; invisible format characters in a platform's name
("Insta\u200bgram") are folded away."""

import pytest

from incidents.listening import importing
from incidents.listening.models import Mention

from .conftest import ndjson, post
from .test_import_page import form_data, text_of, upload

pytestmark = pytest.mark.django_db

FIELDS = ("platform", "id", "text", "posted_at")


def convert(rows: str, **options):
    table = importing.read_table(f"platform,id,text,posted_at\n{rows}".encode())
    return importing.convert(
        table, importing.Options(mapping={key: key for key in FIELDS}, **options)
    )


def test_the_rows_an_unknown_platform_refuses_are_those_ticking_imports(settings):
    settings.LANGUAGE_CODE = "en"
    rows = (
        "Threads,1,Lid,2026-11-30T09:00:00Z\n"
        "Threads,2,Lid,2026-02-30 10:00\n"  # refused for its date, ticked or not
        "Tumblr,3,Lid,2026-11-30T09:00:00Z\n"
    )
    refused = convert(rows)
    as_other = convert(rows, unknown_as_other=True)
    assert refused.unknown_platforms == as_other.unknown_platforms == {"Threads": 1, "Tumblr": 1}
    assert refused.unknown_platforms_note.startswith(
        "2 rows give a platform this import does not know, and are refused: “Threads” (1), "
        "“Tumblr” (1)."
    )
    assert as_other.unknown_platforms_note == (
        "2 rows give a platform this import does not know, read as “Other”: “Threads” (1), "
        "“Tumblr” (1)."
    )
    # The refusals blame the platform on the same rows, and the date on the other.
    assert [(error.line, error.error.split(": ")[0]) for error in refused.errors] == [
        (2, "The platform “Threads” is not one this import knows"),
        (3, "“2026-02-30 10:00” is not a date"),
        (4, "The platform “Tumblr” is not one this import knows"),
    ]
    assert [error.line for error in as_other.errors] == [3]
    assert [line for line, _data in as_other.rows] == [2, 4]


@pytest.mark.parametrize(
    ("written", "date_order", "missing"),
    [
        ("2026-02-30 10:00", "dmy", "30 February 2026"),
        ("2026-02-29T10:00:00Z", "dmy", "29 February 2026"),
        ("30/02/2026 10:00", "dmy", "30 February 2026"),
        ("31-04-2026 9:12 PM", "dmy", "31 April 2026"),
        ("31.04.2026", "dmy", "31 April 2026"),
        ("02/30/2026 10:00", "mdy", "30 February 2026"),
        ("02/30/2026", "dmy", "30 February 2026"),  # read month first: its form
        ("30 Feb 2026 10:00", "dmy", "30 February 2026"),
        ("Feb 30, 2026", "mdy", "30 February 2026"),
        ("Thu, 31 Apr 2026 09:12 +0100", "dmy", "31 April 2026"),
        ("30 février 2026", "dmy", "30 February 2026"),
    ],
)
def test_a_date_the_calendar_has_not_is_said_not_to_exist(written, date_order, missing, settings):
    settings.LANGUAGE_CODE = "en"
    [error] = convert(f'x,1,Lid,"{written}"\n', date_order=date_order).errors
    assert error.error == f"“{written}” is not a date: {missing} does not exist."


@pytest.mark.parametrize("written", ["32/01/2026", "2026-13-01 10:00", "13/13/2026", "30 Fab 2026"])
def test_a_date_whose_form_is_not_read_lists_the_forms_read(written, settings):
    settings.LANGUAGE_CODE = "en"
    [error] = convert(f"x,1,Lid,{written}\n").errors
    assert error.error.startswith(f"“{written}” is not a date this import reads: it reads")


def test_the_page_says_a_date_does_not_exist_in_french(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "fr"
    page = upload(
        browser_client.as_user(importer),
        b"Platform,Id,Text,Date\nx,1,Lid,2026-02-30 10:00\n",
    )
    [error] = page.context["conversion"].errors
    assert "30 février 2026" in error.error


def test_the_bulk_api_says_a_date_does_not_exist(importer, send_bulk, settings):
    settings.LANGUAGE_CODE = "en"
    response = send_bulk(
        importer,
        ndjson(
            post("t1", posted_at="2026-02-30T10:00:00Z"),
            post("t2"),
            post("t3", posted_at="2026-13-01T10:00:00Z"),
        ),
    )
    report = response.json()
    assert report["stored"] == 1
    assert [(row["line"], row["error"]) for row in report["rejected"]] == [
        (1, "posted_at is not a date: 30 February 2026 does not exist."),
        (3, "posted_at is not a date and time (ISO 8601, e.g. 2026-11-30T09:12:00Z)."),
    ]


def test_the_separator_line_is_counted_among_the_lines_skipped(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    content = (
        "sep=;\nMentions export\nQuery: lumiere\n"
        "Platform;Date;Url;Text\nx;2026-11-30 09:12;https://x.com/a/status/1;Lid\n"
    )
    page = upload(browser_client.as_user(importer), content.encode())
    assert [line for line, _data in page.context["conversion"].rows] == [5]
    assert (
        "Skipped 3 lines above the column names (line 4), no part of the table: the "
        "separator line “sep=;” (line 1), “Mentions export” (line 2), “Query: lumiere” "
        "(line 3)."
    ) in text_of(page.content.decode())
    # A separator line alone above the column names: nothing skipped worth saying.
    alone = importing.read_table(content.replace("Mentions export\nQuery: lumiere\n", "").encode())
    assert alone.skipped_note == "" and alone.header_line == 2


@pytest.mark.parametrize(
    ("written", "platform"),
    [
        ("Insta\u200bgram", "instagram"),
        ("\ufeffFacebook", "facebook"),
        ("Twit\u200dter", "x"),
        ("You\u00adTube", "youtube"),
        ("\u2060BLUESKY\u200c", "bluesky"),
    ],
)
def test_invisible_format_characters_in_a_platform_are_folded_away(written, platform):
    conversion = convert(f"{written},1,Lid,2026-11-30T09:00:00Z\n")
    assert conversion.errors == [] and not conversion.unknown_platforms
    assert [data.platform for data in conversion.mentions] == [platform]


def test_a_platform_of_invisible_characters_alone_is_empty(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    page = upload(client, "Platform,Id,Text,Date\n\u200b,1,Lid,2026-11-30T09:00:00Z\n".encode())
    [error] = page.context["conversion"].errors
    assert error.error.startswith("“Platform” is empty")
    chosen = client.post("/listening/import/", form_data(page, step="preview", platform="forum"))
    done = client.post("/listening/import/", form_data(chosen, step="import"))
    assert done.status_code == 200
    assert list(Mention.objects.values_list("platform", flat=True)) == ["forum"]
