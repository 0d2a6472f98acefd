"""The browser import reads more real files and says more clearly what it did (a user
pass): a file of `|` separators without Excel's "sep=" line; dashed dates (31-12-2026) and
dates with their month by name, English or French (28 Nov 2026, 28 nov. 2026, Nov 28,
2026), which tell nothing of the day/month order; rows whose platform is none of ours,
refused by default with a note naming the values and counting the rows, or imported as
"Other" when the form says so (the bulk API stays strict); the warnings past the listed
ones counted; ISO times in the messages kept on one line."""

from datetime import UTC, datetime

import pytest

from incidents.listening import importing
from incidents.listening.import_views import _grouped
from incidents.listening.models import Mention

from .conftest import ndjson, post
from .test_import_page import form_data, text_of, upload

pytestmark = pytest.mark.django_db


def test_a_file_of_vertical_bars_is_read_without_a_separator_line():
    table = importing.read_table(
        b"Platform|Id|Content|Date\n"
        b"x|1|Lid, melted; again|2026-11-30T09:00:00Z\n"
        b"x|2|Lid|2026-11-30T09:05:00Z\n"
    )
    assert table.columns == ["Platform", "Id", "Content", "Date"]
    assert table.rows[0] == (
        2,
        {
            "Platform": "x",
            "Id": "1",
            "Content": "Lid, melted; again",
            "Date": "2026-11-30T09:00:00Z",
        },
    )


@pytest.mark.parametrize(
    "title",
    [
        b'"Export";"Brand24"\n',
        b'"Export";"Brand24"\n"Period";"1-3 Dec 2026"\n',
        b"Export,Brand24\n",
    ],
)
def test_a_title_written_with_another_separator_than_the_table_is_skipped(title):
    table = importing.read_table(
        title + b"Platform|Id|Content|Date\n"
        b"x|1|Lid, melted; again|2026-11-30T09:00:00Z\n"
        b"x|2|Lid|2026-11-30T09:05:00Z\n"
    )
    assert table.columns == ["Platform", "Id", "Content", "Date"]
    assert [row["Id"] for _line, row in table.rows] == ["1", "2"]
    assert "Brand24" in table.skipped_note


def test_a_table_of_unknown_names_keeps_the_sniffers_separator():
    """Only names the presets know can overrule the sniffer: a user's own columns stay."""
    table = importing.read_table(b"When;Who;What\n2026-11-30T09:00:00Z;alice;Lid, again\n")
    assert table.columns == ["When", "Who", "What"]


@pytest.mark.parametrize(
    ("written", "order", "moment"),
    [
        ("28-11-2026", "dmy", (2026, 11, 28, 0, 0)),
        ("28-11-2026 09:12", "dmy", (2026, 11, 28, 9, 12)),
        ("11-28-2026 9:12 PM", "mdy", (2026, 11, 28, 21, 12)),
        ("28 Nov 2026", None, (2026, 11, 28, 0, 0)),
        ("28 November 2026 09:12", None, (2026, 11, 28, 9, 12)),
        ("28 nov. 2026 09:12", None, (2026, 11, 28, 9, 12)),
        ("28 novembre 2026 à 09:12", None, (2026, 11, 28, 9, 12)),
        ("1er févr. 2026", None, (2026, 2, 1, 0, 0)),
        ("3 août 2026", None, (2026, 8, 3, 0, 0)),
        ("03-Dec-2025", None, (2025, 12, 3, 0, 0)),
        ("Nov 28, 2026", None, (2026, 11, 28, 0, 0)),
        ("November 28, 2026 9:12 pm", None, (2026, 11, 28, 21, 12)),
        ("Sat, 28 Nov 2026 09:12:00", None, (2026, 11, 28, 9, 12)),
    ],
)
def test_dashed_dates_and_month_names_are_read(written, order, moment):
    """A date with its month by name reads the same in both orders: it is never told to
    switch, and tells nothing of the file's order."""
    table = importing.read_table(f'platform,id,text,posted_at\nx,1,Lid,"{written}"\n'.encode())
    guess = importing.guess_date_order(table, "posted_at")
    assert guess == importing.DateOrderGuess(order)
    for date_order in [order] if order else ["dmy", "mdy"]:
        options = importing.Options(
            mapping={key: key for key in ("platform", "id", "text", "posted_at")},
            date_order=date_order,
        )
        conversion = importing.convert(table, options)
        assert conversion.errors == []
        [(_line, data)] = conversion.rows
        assert data.posted_at.astimezone(UTC).timetuple()[:5] == moment


def test_a_month_name_with_its_zone_is_read_at_that_instant():
    moment = importing._month_named("Sat, 28 Nov 2026 09:12:00 +0100")
    assert moment == datetime(2026, 11, 28, 8, 12, tzinfo=UTC)
    assert importing._month_named("28 Nov 2026 09:12 GMT") == datetime(
        2026, 11, 28, 9, 12, tzinfo=UTC
    )
    # Not a month, not a day of that month, an offset no zone has: not read.
    assert importing._month_named("28 Brumaire 2026") is None
    assert importing._month_named("31 Feb 2026") is None
    assert importing._month_named("28 Nov 2026 09:12 +2300") is None
    assert importing._month_named("28 Nov 2026 09:12 -1400") is not None
    assert importing._month_named("28 Nov 2026 09:12 +1401") is None


@pytest.mark.parametrize("offset", ["+0099", "-00:60", "+01:75", "-0560"])
def test_an_offset_of_60_minutes_or_more_is_not_read_as_another_one(offset):
    """Python reads "+00:99" as +01:39 and "-00:60" as -01:00: a typing error taken for
    another zone. A month-named date and an ISO 8601 time (the bulk API's and the import's
    reading, ingest.iso_time) with such an offset are not dates; +01:59 is one."""
    assert importing._month_named(f"3 Dec 2026 09:12 {offset}") is None
    iso = f"2026-12-03T09:12:00{offset}"
    assert importing.iso_time(iso) is None
    with pytest.raises(importing.RowError, match="is not a date and time"):
        importing.parse_time(iso)
    assert importing._month_named("3 Dec 2026 09:12 +01:59") == datetime(
        2026, 12, 3, 7, 13, tzinfo=UTC
    )
    assert importing.iso_time("2026-12-03T09:12:00-01:59:59") is not None
    assert importing.iso_time("2026-12-03T09:12:00+01:00:60") is None


def test_a_day_of_the_week_that_is_not_the_dates_refuses_the_row(
    importer, browser_client, settings
):
    """3 December 2026 is a Thursday: "Mon, 3 Dec 2026" was read as the 3rd, the Monday
    dropped. The file is wrong in one of the two, and which cannot be told: refused."""
    settings.LANGUAGE_CODE = "en"
    rows = (
        "platform,id,text,posted_at\n"
        'x,1,Lid,"Mon, 3 Dec 2026 09:12"\n'
        'x,2,Lid,"Thu, 3 Dec 2026 09:12"\n'
        'x,3,Lid,"jeudi 3 décembre 2026"\n'
        'x,4,Lid,"mar. 3 déc. 2026"\n'
    )
    page = upload(browser_client.as_user(importer), rows.encode())
    conversion = page.context["conversion"]
    assert [line for line, _data in conversion.rows] == [3, 4]
    assert [error.line for error in conversion.errors] == [2, 5]
    assert conversion.errors[0].error == (
        "“Mon, 3 Dec 2026 09:12” gives a day of the week that is not its date's: that date "
        "is a Thursday. Correct the date or the day in the file, then upload the file again."
    )
    assert "that date is a Thursday" in text_of(page.content.decode())


def test_month_names_beside_dates_that_read_both_ways_leave_the_order_to_check(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    rows = "platform,id,text,posted_at\nx,1,Lid,28 Nov 2026\nx,2,Lid,05/06/2026\n"
    page = upload(client, rows.encode())
    assert "Every date of this file reads both ways (“05/06/2026”)" in text_of(
        page.content.decode()
    )
    named = upload(client, b"platform,id,text,posted_at\nx,1,Lid,28 Nov 2026\n")
    assert "reads both ways" not in text_of(named.content.decode())
    assert named.context["conversion"].errors == []


DASH = "\u2013"  # between a range's first and last line

UNKNOWN = (
    "Date,Author,Text,Url,Platform\n"
    "2026-11-30 09:12,@alice,Kettle lid melted,https://tumblr.com/a/1,Tumblr\n"
    "2026-11-30 09:13,@bob,Lid again,https://threads.net/b/2,Threads\n"
    "2026-11-30 09:14,@carl,Lid story,https://tumblr.com/c/3,Tumblr\n"
    "2026-11-30 09:15,@dan,Lid,https://x.com/d/status/4,Twitter\n"
)


def test_unknown_platforms_are_refused_by_default_and_imported_as_other_when_chosen(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, UNKNOWN.encode())
    conversion = first.context["conversion"]
    assert [line for line, _data in conversion.rows] == [5]
    assert [error.line for error in conversion.errors] == [2, 3, 4]
    html = text_of(first.content.decode())
    assert (
        "3 rows give a platform this import does not know, and are refused: “Tumblr” (2), "
        "“Threads” (1). To import them as “Other”, tick “Import rows with an unknown "
        "platform as Other”, then update the preview."
    ) in html
    assert 'name="unknown_as_other"' in first.content.decode()  # the choice, unticked
    assert not first.context["mapping"]["unknown_as_other"].value()

    chosen = client.post(
        "/listening/import/", form_data(first, step="preview", unknown_as_other="on")
    )
    conversion = chosen.context["conversion"]
    assert conversion.errors == []
    assert [data.platform for _line, data in conversion.rows] == ["other"] * 3 + ["x"]
    assert (
        "3 rows give a platform this import does not know, read as “Other”: “Tumblr” "
        "(2), “Threads” (1)."
    ) in text_of(chosen.content.decode())
    # The choice is part of what was previewed: importing without it previews again.
    changed = client.post(
        "/listening/import/", form_data(chosen, step="import", unknown_as_other="")
    )
    assert changed.status_code == 409 and Mention.objects.count() == 0
    done = client.post("/listening/import/", form_data(chosen, step="import"))
    assert done.context["report"].stored == 4
    assert sorted(Mention.objects.values_list("platform", flat=True)) == ["other"] * 3 + ["x"]


def test_an_empty_platform_cell_is_refused_pointing_to_the_files_platform(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    page = upload(client, b"Platform,Id,Text,Date\n,1,Lid,2026-11-30T09:00:00Z\n")
    [error] = page.context["conversion"].errors
    assert error.error == (
        "“Platform” is empty: fill it in the file, or choose “Platform when no column says”."
    )
    chosen = client.post("/listening/import/", form_data(page, step="preview", platform="forum"))
    assert chosen.context["conversion"].errors == []
    assert [data.platform for _line, data in chosen.context["conversion"].rows] == ["forum"]


def test_unknown_platforms_are_counted_whatever_their_case_and_refused_naming_the_choice(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    page = upload(
        browser_client.as_user(importer),
        (UNKNOWN + "2026-11-30 09:16,@eve,Lid,https://tumblr.com/e/5,tumblr\n").encode(),
    )
    html = text_of(page.content.decode())
    assert (
        "4 rows give a platform this import does not know, and are refused: “Tumblr” (3), "
        "“Threads” (1)."
    ) in html
    assert [(group.label, group.error) for group in page.context["errors"]] == [
        (
            "Lines 2, 4, 6 (3 rows)",
            "The platform “Tumblr” is not one this import knows: ticking “Import rows with "
            "an unknown platform as Other” imports such rows as “Other”.",
        ),
        (
            "Line 3",
            "The platform “Threads” is not one this import knows: ticking “Import rows with "
            "an unknown platform as Other” imports such rows as “Other”.",
        ),
    ]


def test_a_file_of_many_unknown_platforms_names_the_most_frequent():
    rows = "".join(f"net{n % 7},{n},Lid,2026-11-30T09:00:00Z\n" for n in range(20))
    table = importing.read_table(f"platform,id,text,posted_at\n{rows}".encode())
    options = importing.Options(mapping={k: k for k in ("platform", "id", "text", "posted_at")})
    note = importing.convert(table, options).unknown_platforms_note
    assert note.startswith(
        "20 rows give a platform this import does not know, and are refused: “net0” (3), "
        "“net1” (3), “net2” (3), “net3” (3), “net4” (3) and 2 other values."
    )


def test_the_bulk_api_still_refuses_an_unknown_platform(importer, send_bulk):
    """The import's choice is the page's: a client sending its own format is told."""
    response = send_bulk(importer, ndjson(post("t1", platform="tumblr"), post("t2")))
    report = response.json()
    assert report["stored"] == 1
    [rejected] = report["rejected"]
    assert rejected["line"] == 1 and "Unknown platform" in rejected["error"]
    assert list(Mention.objects.values_list("platform", flat=True)) == ["bluesky"]


def test_the_warnings_past_the_listed_ones_are_counted(importer, browser_client, settings):
    """Each row saying its own thing: 130 groups, the first 100 listed; the rows left out
    counted, the total kept."""
    settings.LANGUAGE_CODE = "en"
    rows = "".join(f"x,w{n},Lid {n},2026-11-30T09:00:00Z,maybe {n}\n" for n in range(130))
    page = upload(
        browser_client.as_user(importer),
        f"platform,id,text,posted_at,author.verified\n{rows}".encode(),
    )
    assert len(page.context["conversion"].warnings) == 130
    html = text_of(page.content.decode())
    assert html.count("is not true or false") == 100
    assert "and 30 more warnings (130 in all)" in html
    assert "130 new mentions will be imported · " in html and " · 130 to check. " in html


def test_the_refused_rows_past_the_listed_ones_are_counted(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    rows = "".join(f"x,r{n},Lid {n},not a date {n}\n" for n in range(130))
    page = upload(browser_client.as_user(importer), f"platform,id,text,posted_at\n{rows}".encode())
    assert len(page.context["conversion"].errors) == 130
    html = text_of(page.content.decode())
    assert "and 30 more refused rows (130 in all)" in html


def test_rows_saying_the_same_are_listed_once_with_their_lines(importer, browser_client, settings):
    """150 rows whose Verified says "maybe": one line naming them, the summary counting
    them; runs of rows next to each other named as ranges, with the count when the ranges
    do not tell it. The report lists them the same way."""
    settings.LANGUAGE_CODE = "en"
    rows = "".join(
        f"2026-11-30 09:00,@u{n},Lid {n},X,https://x.com/u/status/{n},maybe\n" for n in range(150)
    )
    client = browser_client.as_user(importer)
    page = upload(client, f"Date,Author,Text,Platform,Url,Verified\n{rows}".encode())
    html = text_of(page.content.decode())
    assert "150 new mentions will be imported · " in html and " · 150 to check. " in html
    assert html.count("is not true or false") == 1
    assert (
        f"Lines 2{DASH}151: “Verified” says “maybe”, which is not true or false (or 1 or 0, "
        "yes or no): the post is imported without it."
    ) in html
    assert [(group.count, group.label) for group in page.context["warnings"]] == [
        (150, f"Lines 2{DASH}151")
    ]

    # Refused rows: lines 2 to 40, 45 and 50 to 60 hold a bad date; the others are good.
    def row(line):
        bad = line <= 40 or line == 45 or 50 <= line <= 60
        return f"x,r{line},Lid,{'soon' if bad else '2026-11-30T09:00:00Z'}\n"

    mixed = "".join(row(line) for line in range(2, 70)).encode()
    page = upload(client, b"platform,id,text,posted_at\n" + mixed)
    [group] = page.context["errors"]
    assert group.label == f"Lines 2{DASH}40, 45, 50{DASH}60 (51 rows)" and group.count == 51
    assert page.context["errors_total"] == 51 and page.context["errors_not_listed"] == 0
    assert f"Lines 2{DASH}40, 45, 50{DASH}60 (51 rows): " in text_of(page.content.decode())
    done = client.post("/listening/import/", form_data(page, step="import"))
    report = text_of(done.content.decode())
    assert done.context["report"].stored == 17
    assert f"Lines 2{DASH}40, 45, 50{DASH}60 (51 rows): " in report


def test_a_group_names_at_most_ten_runs_of_lines():
    table = importing.read_table(
        ("platform,id\n" + "".join(f"x,{n}\n" for n in range(60))).encode()
    )
    every_other = [importing.LineError(line, "Same.") for line in range(2, 62, 2)]
    [group] = _grouped(every_other, table)
    assert group.label == "Lines 2, 4, 6, 8, 10, 12, 14, 16, 18, 20… (30 rows)"
    # Rows next to each other in the file make one run, whatever lines a row runs over.
    spread = importing.read_table(b'platform,id,text\nx,1,"one\ntwo"\nx,2,three\nx,3,four\n')
    assert [number for number, _row in spread.rows] == [2, 4, 5]
    [group] = _grouped([importing.LineError(line, "Same.") for line in (2, 4)], spread)
    assert group.label == f"Lines 2{DASH}4 (2 rows)"
    json_table = importing.read_table(b'[{"id": 1}, {"id": 2}]')
    [group] = _grouped([importing.LineError(line, "Same.") for line in (1, 2)], json_table)
    assert group.label == f"Items 1{DASH}2"
    json_table = importing.read_table(b'[{"id": 1}, {"id": 2}, {"id": 3}]')
    [group] = _grouped([importing.LineError(line, "Same.") for line in (1, 3)], json_table)
    assert group.label == "Items 1, 3 (2 items)"


def test_iso_times_in_a_message_stay_on_one_line(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, b"Platform;Id;Content;Date\nx;1;Lid;25/10/2026 02:30\n")
    preview = client.post(
        "/listening/import/", form_data(first, step="preview", zone="Europe/Paris")
    )
    html = preview.content.decode()
    assert '<span class="nowrap">2026-10-25T02:30+02:00</span> for the first time' in html
    assert '<span class="nowrap">2026-10-25T02:30+01:00</span> for the second' in html
