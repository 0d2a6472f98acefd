"""The browser import of listening tools' exports as they come (a comms pass): a CSV whose
lines end with a lone CR (old Mac exports) reads as CRLF and LF files do; a line the csv
module cannot read is said in our words; a local time the clocks skipped or repeated is
refused with that row's own time written with either offset; the preview shows whether
the author is verified; an export's usual column names (Full Text, Page Type, Twitter
Verified…) are found; the whole file's choices are laid out beside each other, whole."""

import csv
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from incidents.listening import importing
from incidents.listening.models import Mention

from .test_import_page import form_data, text_of, upload

pytestmark = pytest.mark.django_db

WHEN = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def exported(end: str) -> bytes:
    """The same export with each of its line ends written `end`, a line break inside a
    quoted cell included (as the tool wrote it)."""
    lines = [
        "platform,id,text,posted_at",
        f'bluesky,a1,"Le couvercle a fondu{end}vraiment déçu",{WHEN}',
        "bluesky,a2,Une ligne,not a date",
        f"bluesky,a3,Encore une,{WHEN}",
    ]
    return (end.join(lines) + end).encode()


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"], ids=["CR", "CRLF", "LF"])
def test_a_file_of_lone_cr_line_ends_reads_as_crlf_and_lf_files_do(
    end, importer, browser_client, settings
):
    """A lone CR (old Mac exports) was refused with the csv module's own words ("new-line
    character seen in unquoted field - do you need to open the file in universal-newline
    mode?"): it reads as the others, rows, line numbers and texts alike, and imports."""
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, exported(end))
    assert first.status_code == 200, text_of(first.content.decode())
    conversion = first.context["conversion"]
    assert [(line, data.external_id) for line, data in conversion.rows] == [(2, "a1"), (5, "a3")]
    # A line break inside a quoted cell is stored as LF, whatever the file's line ends.
    assert conversion.rows[0][1].text == "Le couvercle a fondu\nvraiment déçu"
    assert [error.line for error in conversion.errors] == [4]
    done = client.post("/listening/import/", form_data(first, step="import"))
    assert done.context["report"].stored == 2
    stored = Mention.objects.get(external_id="a1")
    assert (stored.source, stored.text) == ("import", "Le couvercle a fondu\nvraiment déçu")


def test_a_lone_cr_inside_a_quoted_cell_of_an_lf_file_is_a_line_break_as_in_crlf_files():
    table = importing.read_table(
        b'platform,id,text,posted_at\nbluesky,a1,"one\rtwo",2026-11-30T09:00:00Z\n'
        b"bluesky,a2,three,2026-11-30T09:00:00Z\n"
    )
    assert [(line, cells["text"]) for line, cells in table.rows] == [(2, "one\ntwo"), (4, "three")]


def test_a_line_the_csv_module_cannot_read_is_said_in_our_words_with_its_number(
    importer, browser_client, settings, monkeypatch
):
    """Whatever the csv module refuses (its messages speak of "universal-newline mode" and
    "unquoted fields"), the page names the line and what to check, in the reader's
    language."""
    settings.LANGUAGE_CODE = "en"
    reader = csv.reader

    class Refusing:
        """The csv module's reader, refusing the line `at` as it refuses a broken one."""

        def __init__(self, at, *args, **kwargs):
            self.inner, self.at = reader(*args, **kwargs), at

        @property
        def line_num(self):
            return self.inner.line_num

        def __iter__(self):
            return self

        def __next__(self):
            values = next(self.inner)
            if self.inner.line_num == self.at:
                raise csv.Error("new-line character seen in unquoted field - do you need …")
            return values

    client = browser_client.as_user(importer)
    for line in (3, 1):
        monkeypatch.setattr(csv, "reader", lambda *a, at=line, **k: Refusing(at, *a, **k))
        refused = upload(client, exported("\n"))
        html = text_of(refused.content.decode())
        assert refused.status_code == 422
        assert (
            f"Line {line} cannot be read as CSV: check its quotes (a cell holding the "
            "separator, a quote or a line break is written between double quotes, and each "
            "quote inside it is written twice), then upload the file again."
        ) in html
        assert "new-line character" not in html and "not valid CSV" not in html


def test_an_export_with_its_report_title_above_the_columns_skips_it_and_says_so(
    importer, browser_client, settings
):
    """A title line of one cell above the column names refused the file ("delete the lines
    above it"): the lines above the line that names known columns are skipped, and named."""
    settings.LANGUAGE_CODE = "en"
    content = (
        "Mentions export\r\rQuery: Maison Lumière\rDate,Url,Author,Full Text\r"
        f"{WHEN},https://x.com/a/status/1,alice,Maison Lumière\r"
    )
    page = upload(browser_client.as_user(importer), content.encode())
    assert page.status_code == 200
    assert page.context["table"].columns == ["Date", "Url", "Author", "Full Text"]
    assert [line for line, _row in page.context["table"].rows] == [5]
    # The blank line between them is named: the lines counted are the file's.
    assert (
        "Skipped 3 lines above the column names (line 4), no part of the table: “Mentions "
        "export” (line 1), a blank line (line 2), “Query: Maison Lumière” (line 3)."
    ) in text_of(page.content.decode())
    # A first line of one name above no line naming known columns: said as before.
    refused = importing_refusal(b"Export\nQuand,Qui,Quoi\n2026-11-30,alice,Lid\n")
    assert str(refused) == (
        "The first line names no columns, but line 2 looks like the column names: delete "
        "the lines above it, then upload the file again."
    )
    # A file of one column has no such line: said as before.
    with pytest.raises(importing.FileError, match="No columns found"):
        importing.read_table(b"one column\nanother line\n")


def importing_refusal(data: bytes) -> importing.FileError:
    with pytest.raises(importing.FileError) as refused:
        importing.read_table(data)
    return refused.value


@pytest.mark.parametrize(
    ("zone", "written", "skipped", "repeated"),
    [
        (
            "Europe/Paris",
            ("29/03/2026 02:30", "25/10/2026 02:30"),
            "2026-03-29T02:30+01:00 (winter time, which the clocks showed as 03:30) or "
            "2026-03-29T02:30+02:00 (summer time, which the clocks showed as 01:30)",
            "2026-10-25T02:30+02:00 for the first time (summer time) or "
            "2026-10-25T02:30+01:00 for the second (winter time)",
        ),
        (
            "America/New_York",
            ("2026-03-08 02:30:15", "2026-11-01 01:15:00"),
            "2026-03-08T02:30:15-05:00 (winter time, which the clocks showed as 03:30:15) or "
            "2026-03-08T02:30:15-04:00 (summer time, which the clocks showed as 01:30:15)",
            "2026-11-01T01:15-04:00 for the first time (summer time) or "
            "2026-11-01T01:15-05:00 for the second (winter time)",
        ),
    ],
)
def test_a_time_the_clocks_skipped_or_repeated_is_refused_with_that_rows_time_to_write(
    zone, written, skipped, repeated, importer, browser_client, settings
):
    """The refusal gave no time to write for a skipped one: each now gives the row's own
    date and time with either UTC offset (seconds kept when it has some), and the zone reads
    as a zone ("in the Europe/Paris time zone"; the French said "à Europe/Paris"). Each
    offset says what it means: summer or winter time, and for a skipped time, the time the
    clocks showed at that instant."""
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    gap, twice = written
    content = f"Platform;Id;Content;Date\nx;1;Maison Lumière;{gap}\nx;2;Maison Lumière;{twice}\n"
    first = upload(client, content.encode())
    preview = client.post("/listening/import/", form_data(first, step="preview", zone=zone))
    errors = {e.line: e.error for e in preview.context["conversion"].errors}
    assert errors[2] == (
        f"“Date” “{gap}” did not exist in the {zone} time zone (the clocks went forward that "
        "night): are the file's times in another zone? Choose the zone they are written in, "
        f"or write this time with its UTC offset in the file: {skipped}."
    )
    assert errors[3] == (
        f"“Date” “{twice}” happened twice in the {zone} time zone (the clocks went back that "
        "night), and the file does not say which: write it with its UTC offset in the file, "
        f"{repeated}, or export the times in UTC, then upload the file again."
    )
    # What the message says to write is read, to the instant its offset names.
    fixed = "Platform;Id;Content;Date\n" + "".join(
        f"x;{n};Maison Lumière;{value}\n"
        for n, value in enumerate(re.findall(r"\d{4}-\d\d-\d\dT[\d:]+[+-]\d\d:\d\d", skipped))
    )
    again = upload(client, fixed.encode())
    rows = again.context["conversion"].rows
    assert again.context["conversion"].errors == [] and len(rows) == 2
    assert rows[0][1].posted_at - rows[1][1].posted_at == timedelta(hours=1)


def test_the_preview_says_whether_each_author_is_verified(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    content = (
        "platform,id,text,posted_at,author.handle,author.verified\n"
        f"bluesky,v1,Maison Lumière,{WHEN},alice.bsky.social,true\n"
        f"bluesky,v2,Maison Lumière,{WHEN},bob.bsky.social,No\n"
        f"bluesky,v3,Maison Lumière,{WHEN},carl.bsky.social,\n"
    )
    page = upload(browser_client.as_user(importer), content.encode())
    html = page.content.decode()
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    headers = re.findall(r'<th scope="col">([^<]*)</th>', head)
    assert headers[headers.index("Author") + 1] == "Verified"
    cells = {
        row[0]: row[headers.index("Verified")]
        for row in (
            [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", html.split("<tbody>")[1], re.S)
        )
    }
    assert cells == {"2": "Yes", "3": "No", "4": ""}  # empty when the file does not say


def test_an_exports_usual_columns_are_found_and_its_platform_names_read(
    importer, browser_client, settings
):
    """A Brandwatch-like export: the snippet was taken for the text (it came before "Full
    Text" in the names looked for), and its page type, verified flag, followers and
    retweets were left unmapped; a "reddit" or "news" page type is read."""
    settings.LANGUAGE_CODE = "en"
    content = (
        "Date,Title,Url,Author,Snippet,Full Text,Page Type,Author Verified Type,"
        "Twitter Verified,Twitter Followers,Twitter Retweets\n"
        f"{WHEN},,https://x.com/a/status/1,alice,Maison…,Maison Lumière ratée,twitter,blue,"
        "true,1 200,4\n"
        f"{WHEN},,https://reddit.com/r/a/1,bob,Rappel…,Rappel Maison Lumière,reddit,,,,\n"
        f"{WHEN},Rappel,https://news.example.com/a,,Rappel…,Rappel KX-200,News,,,,\n"
    )
    page = upload(browser_client.as_user(importer), content.encode())
    form = page.context["mapping"]
    chosen = {name: form[name].value() for name in form.fields if name.startswith("col_")}
    assert chosen["col_text"] == "Full Text" and chosen["col_platform"] == "Page Type"
    assert chosen["col_author_verified"] == "Twitter Verified"  # not its "Verified Type"
    assert chosen["col_author_followers"] == "Twitter Followers"
    assert chosen["col_reposts"] == "Twitter Retweets"
    conversion = page.context["conversion"]
    assert conversion.errors == []
    read = [
        (d.platform, d.text, d.author_verified, d.author_followers, d.reposts)
        for _line, d in conversion.rows
    ]
    assert read == [
        ("x", "Maison Lumière ratée", True, 1200, 4),
        ("forum", "Rappel Maison Lumière", None, None, 0),
        ("press", "Rappel KX-200", None, None, 0),
    ]


def test_the_whole_files_choices_sit_beside_each_other_out_of_the_columns_grid(
    importer, browser_client, settings
):
    """In French at 1280 px the date order's select, in a column of the grid, cut its
    choice ("Jour d’abord (31/12/2026"): the platform, zone and date order now share a row
    of their own, each as wide as its longest choice, one a line on a phone."""
    settings.LANGUAGE_CODE = "fr"
    page = upload(browser_client.as_user(importer), exported("\n"))
    html = page.content.decode()
    grid = html.split('<div class="mapping-grid">')[1].split('<div class="import-whole-file">')
    assert len(grid) == 2
    columns, whole_file = grid[0], grid[1].split('<div class="form-actions">')[0]
    for name in ("platform", "zone", "date_order"):
        assert f'name="{name}"' in whole_file and f'name="{name}"' not in columns
    assert "Jour d’abord (31/12/2026)" in whole_file
    css = (Path(django_settings.BASE_DIR) / "static/css/app.css").read_text()
    rules = dict(re.findall(r"^(\.import-whole-file[^{]*)\{([^}]*)\}", css, re.M))
    assert "flex-wrap: wrap" in rules[".import-whole-file "]
    assert "flex: 1 1 auto" in rules[".import-whole-file .field "]


def test_excels_separator_line_is_read_as_the_separator_not_as_the_columns(
    importer, browser_client, settings
):
    """A first line "sep=;" (Excel's hint, written by some exports) was taken for the column
    names ("sep=", "Column 2"), with commas in the texts splitting the rows."""
    settings.LANGUAGE_CODE = "en"
    content = (
        "sep=;\r\nPlatform;Id;Content;Date\r\n"
        f"x;1;Maison Lumière, encore;{WHEN}\r\nx;2;Et, encore;not a date\r\n"
    )
    page = upload(browser_client.as_user(importer), content.encode())
    assert page.context["table"].columns == ["Platform", "Id", "Content", "Date"]
    conversion = page.context["conversion"]
    assert [(line, d.text) for line, d in conversion.rows] == [(3, "Maison Lumière, encore")]
    assert [error.line for error in conversion.errors] == [4]  # the file's own numbers


def test_a_date_the_import_cannot_read_says_what_it_reads_or_which_order_to_choose(
    importer, browser_client, settings
):
    """ "12/31/2026 09:12" read day first (the default) was refused as "not a date this
    import reads", saying nothing of what is read: it now names the date order that reads
    it; a date the import cannot read gives dates that are read. "Mar 28, 2026", refused
    too, is read whatever the order (its month has a name)."""
    settings.LANGUAGE_CODE = "en"
    content = (
        "Platform;Id;Content;Date\n"
        "x;1;Maison Lumière;11/28/2026 09:12\n"
        "x;2;Maison Lumière;2026/11/28 09:12\n"
        "x;3;Maison Lumière;28/11/2026 09:12\n"
        "x;4;Maison Lumière;Mar 28, 2026\n"
    )
    client = browser_client.as_user(importer)
    first = upload(client, content.encode())
    errors = {e.line: e.error for e in first.context["conversion"].errors}
    assert errors == {
        2: "“11/28/2026 09:12” is not a date read as “Day first (31/12/2026)”, but is one "
        "read as “Month first (12/31/2026)”: choose that for this file's dates, then update "
        "the preview.",
        3: "“2026/11/28 09:12” is not a date this import reads: it reads dates such as "
        "31/12/2026 09:12 (or with dashes or dots: 31-12-2026), 31 Dec 2026 09:12, Dec 31, "
        "2026 or 2026-12-31T09:12:00Z, and Unix times.",
    }
    month_first = client.post(
        "/listening/import/", form_data(first, step="preview", date_order="mdy")
    )
    errors = {e.line: e.error for e in month_first.context["conversion"].errors}
    rows = month_first.context["conversion"].rows
    assert [d.external_id for _line, d in rows] == ["1", "4"]
    assert rows[1][1].posted_at.date().isoformat() == "2026-03-28"
    assert errors[3].endswith(
        "such as 12/31/2026 09:12 (or with dashes or dots: 12-31-2026), 31 Dec 2026 09:12, "
        "Dec 31, 2026 or 2026-12-31T09:12:00Z, and Unix times."
    )
    assert errors[4].startswith("“28/11/2026 09:12” is not a date read as “Month first")


def dated(*dates: str) -> bytes:
    rows = ["platform,id,text,posted_at"]
    rows += [f"bluesky,d{n},Post {n},{when}" for n, when in enumerate(dates)]
    return ("\n".join(rows) + "\n").encode()


@pytest.mark.parametrize(
    ("dates", "order"),
    [
        (["11/30/2026 09:12", "11/29/2026 18:00", "11/02/2026 08:00"], "mdy"),
        (["30/11/2026 09:12", "02/11/2026 08:00"], "dmy"),
    ],
    ids=["month-first", "day-first"],
)
def test_the_dates_order_is_chosen_from_the_file_when_its_dates_tell(
    dates, order, importer, browser_client, settings
):
    """A US export (11/30/2026) was read day first until the person changed the select: its
    days up to 12 were read as months, silently (11/02 as 11 February). A date that reads
    in one order only tells the whole file's."""
    settings.LANGUAGE_CODE = "en"
    page = upload(browser_client.as_user(importer), dated(*dates))
    assert page.context["mapping"].initial["date_order"] == order
    conversion = page.context["conversion"]
    assert not conversion.errors
    november = [data.posted_at for _line, data in conversion.rows]
    assert all(moment.month == 11 for moment in november)
    assert "reads both ways" not in text_of(page.content.decode())


def test_a_file_whose_dates_all_read_both_ways_says_to_check_them(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    page = upload(browser_client.as_user(importer), dated("05/06/2026 09:12", "07/06/2026 10:00"))
    assert page.context["mapping"].initial["date_order"] == "dmy"  # the default, untold
    html = text_of(page.content.decode())
    assert "Every date of this file reads both ways (“05/06/2026 09:12”)" in html
    # ISO dates tell nothing and need nothing checked.
    iso = upload(browser_client.as_user(importer), dated(WHEN))
    assert "reads both ways" not in text_of(iso.content.decode())


def test_dates_that_disagree_tell_no_order():
    table = importing.read_table(dated("31/12/2026", "12/31/2026", "05/06/2026"))
    assert importing.guess_date_order(table, "posted_at") == importing.DateOrderGuess(None)
    assert importing.guess_date_order(table, "") == importing.DateOrderGuess(None)
    told = importing.read_table(dated("1700000000", "2026-12-31T09:12:00Z", "12/31/2026"))
    assert importing.guess_date_order(told, "posted_at").order == "mdy"


@pytest.mark.parametrize(
    ("day_first", "month_first", "moment"),
    [
        ("13/02/2026 9:12 PM", "02/13/2026 9:12 PM", (2026, 2, 13, 21, 12, 0)),
        ("13/02/2026 09:12:05 AM", "02/13/2026 09:12:05 AM", (2026, 2, 13, 9, 12, 5)),
        ("13/02/2026 21:12:05", "02/13/2026 21:12:05", (2026, 2, 13, 21, 12, 5)),
        ("13.02.2026", "02.13.2026", (2026, 2, 13, 0, 0, 0)),
        ("13.02.2026 21:12", "02.13.2026 21:12", (2026, 2, 13, 21, 12, 0)),
        ("13.02.2026 21:12:05", "02.13.2026 21:12:05", (2026, 2, 13, 21, 12, 5)),
        ("13.02.2026 9:12 pm", "02.13.2026 9:12 pm", (2026, 2, 13, 21, 12, 0)),
    ],
)
def test_both_date_orders_read_the_same_shapes(day_first, month_first, moment):
    """Day first lacked the 12-hour times month first read ("01/02/2026 9:12 PM" was told
    to switch to month first, swapping day and month), and month first the dotted dates:
    each shape reads in both orders, and in the other order only when written so."""
    assert importing._by_order(day_first, "dmy").timetuple()[:6] == moment
    assert importing._by_order(month_first, "mdy").timetuple()[:6] == moment
    assert importing._by_order(day_first, "mdy") is None
    assert importing._by_order(month_first, "dmy") is None


def test_a_day_first_file_of_12_hour_times_is_read_day_first_not_told_to_switch(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    page = upload(client, dated("01/02/2026 9:12 PM", "13/02/2026 08:05 AM"))
    assert page.context["mapping"].initial["date_order"] == "dmy"  # told by 13/02
    conversion = page.context["conversion"]
    assert conversion.errors == []
    assert [f"{data.posted_at:%Y-%m-%d %H:%M}" for _line, data in conversion.rows] == [
        "2026-02-01 21:12",
        "2026-02-13 08:05",
    ]
    # A 12-hour date of the other order only is told to choose that order, which reads it.
    table = importing.read_table(dated("02/13/2026 9:12 PM", "01/02/2026 9:12 PM"))
    assert importing.guess_date_order(table, "posted_at").order == "mdy"
    options = importing.Options(
        mapping={key: key for key in ("platform", "id", "text", "posted_at")}, date_order="dmy"
    )
    (error,) = importing.convert(table, options).errors
    assert (error.line, error.error) == (
        2,
        "“02/13/2026 9:12 PM” is not a date read as “Day first (31/12/2026)”, but is one "
        "read as “Month first (12/31/2026)”: choose that for this file's dates, then update "
        "the preview.",
    )
    # Dotted dates that read both ways tell no order (they told day first alone).
    both = importing.read_table(dated("05.06.2026 09:12", "07.06.2026"))
    assert importing.guess_date_order(both, "posted_at") == importing.DateOrderGuess(
        None, ambiguous=True, example="05.06.2026 09:12"
    )


@pytest.mark.parametrize(
    "first_line",
    ["sep=;", "sep=; ", "sep = ;", '"sep=;"', ' "sep=;" ', "SEP=;\t", 'sep=";"'],
    ids=["plain", "trailing-space", "spaced", "quoted", "quoted-spaced", "upper-tab", "inner"],
)
def test_excels_separator_line_is_read_with_spaces_and_quotes(first_line):
    content = f"{first_line}\r\nPlatform;Id;Content;Date\r\nx;1;Maison Lumière, encore;{WHEN}\r\n"
    table = importing.read_table(content.encode())
    assert table.columns == ["Platform", "Id", "Content", "Date"]
    assert table.rows == [
        (3, {"Platform": "x", "Id": "1", "Content": "Maison Lumière, encore", "Date": WHEN})
    ]


def test_a_separator_line_naming_a_bar_or_a_tab_is_the_readers_separator():
    bar = importing.read_table(f"sep=|\nPlatform|Id|Content|Date\nx|1|A; b, c|{WHEN}\n".encode())
    assert bar.columns == ["Platform", "Id", "Content", "Date"]
    assert bar.rows == [(3, {"Platform": "x", "Id": "1", "Content": "A; b, c", "Date": WHEN})]
    tabbed = f"sep=\t\nPlatform\tId\tContent\tDate\nx\t1\tA; b\t{WHEN}\n"
    tab = importing.read_table(tabbed.encode())
    assert tab.rows == [(3, {"Platform": "x", "Id": "1", "Content": "A; b", "Date": WHEN})]


def test_an_unknown_separator_line_is_refused_naming_line_1(importer, browser_client, settings):
    """ "sep=:" was taken for the column names, and the file refused as "No columns
    found"."""
    settings.LANGUAGE_CODE = "en"
    content = f"sep=:\nPlatform:Id:Content:Date\nx:1:A:{WHEN}\n"
    refused = upload(browser_client.as_user(importer), content.encode())
    assert refused.status_code == 422
    html = text_of(refused.content.decode())
    assert (
        "Line 1 (“sep=:”) names a separator this import does not read: it reads a comma, a "
        "semicolon, a tab or a vertical bar (sep=, sep=; sep=|). Correct that line or delete "
        "it, then upload the file again."
    ) in html
    assert "No columns found" not in html
    # A quote the line leaves open swallows none of the lines below it.
    with pytest.raises(importing.FileError, match=r"Line 1 \(“\"sep=ab”\)"):
        importing.read_table(b'"sep=ab\nPlatform;Id;Content;Date\n')


@pytest.mark.parametrize(
    ("written", "skipped"),
    [
        ("29/03/2026 02:30:15", "2026-03-29T02:30:15+01:00 or 2026-03-29T02:30:15+02:00"),
        (
            "2026-03-29T02:30:15.250",
            "2026-03-29T02:30:15.250+01:00 or 2026-03-29T02:30:15.250+02:00",
        ),
        (
            "2026-03-29 02:30:15.123456",
            "2026-03-29T02:30:15.123456+01:00 or 2026-03-29T02:30:15.123456+02:00",
        ),
    ],
    ids=["seconds", "milliseconds", "microseconds"],
)
def test_the_offsets_suggested_for_a_skipped_time_keep_its_fraction_of_a_second(
    written, skipped, importer, browser_client, settings
):
    """ "02:30:15.250" was suggested as "02:30:15+01:00": what it said to write was not the
    row's time."""
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, f"Platform;Id;Content;Date\nx;1;Maison Lumière;{written}\n".encode())
    preview = client.post(
        "/listening/import/", form_data(first, step="preview", zone="Europe/Paris")
    )
    (error,) = preview.context["conversion"].errors
    first, second = skipped.split(" or ")
    assert f"write this time with its UTC offset in the file: {first} (winter time, " in error.error
    assert f" or {second} (summer time, which the clocks showed as 01:30" in error.error
    # Written as suggested, it reads to the row's own instant, fraction included.
    fixed = "Platform;Id;Content;Date\n" + "".join(
        f"x;{n};Maison Lumière;{value}\n" for n, value in enumerate(skipped.split(" or "))
    )
    rows = upload(client, fixed.encode()).context["conversion"].rows
    naive = importing.iso_time(written.replace(" ", "T")) or importing._by_order(written, "dmy")
    assert [data.posted_at.replace(tzinfo=None) for _line, data in rows] == [naive, naive]


def test_a_title_line_padded_to_the_tables_width_is_not_taken_for_the_header():
    """Excel writes a report's title lines with as many separators as the table has
    columns ("Export veille;;;;"): one name, not a header of "Column 2, Column 3…"."""
    data = (
        "sep=;\nExport veille Demo;;;\nPériode : novembre;;;\n"
        "platform;id;text;posted_at\nbluesky;t1;Couvercle;2026-11-30T09:00:00Z\n"
    ).encode()
    table = importing.read_table(data)
    assert table.columns == ["platform", "id", "text", "posted_at"]
    # The separator line counted with them: the lines named add up to the header's.
    assert table.skipped == [(1, "sep=;"), (2, "Export veille Demo"), (3, "Période : novembre")]
    assert (
        table.separator_line
        and table.header_line == 4
        and [line for line, _row in table.rows] == [5]
    )


@pytest.mark.parametrize(
    "title",
    ['"Report:","Demo Kettles"', "Report:,Demo Kettles,,,", "Export,Demo Kettles,Nov 2026"],
    ids=["two-quoted-cells", "padded", "three-cells"],
)
def test_a_title_line_of_several_cells_is_skipped_and_named_in_the_preview(
    title, importer, browser_client, settings
):
    """A title of two cells or more ("Report:","Demo Kettles") was taken for the header:
    "Report:" and "Demo Kettles" offered as columns, and every field unmapped."""
    settings.LANGUAGE_CODE = "en"
    content = (
        f'{title}\n"Period:","1-30 Nov 2026"\n\n'
        "Date,Author,Text,Url,Platform\n"
        "30/11/2026 09:12,@alice,Kettle lid melted,https://x.com/a/status/1,Twitter\n"
    )
    page = upload(browser_client.as_user(importer), content.encode())
    assert page.context["table"].columns == ["Date", "Author", "Text", "Url", "Platform"]
    conversion = page.context["conversion"]
    assert conversion.errors == [] and [line for line, _d in conversion.rows] == [5]
    shown = " ".join(cell for cell in title.replace('"', "").split(",") if cell)
    assert (
        "Skipped 3 lines above the column names (line 4), no part of the table: "
        f"“{shown}” (line 1), “Period: 1-30 Nov 2026” (line 2), a blank line (line 3)."
    ) in text_of(page.content.decode())


@pytest.mark.parametrize(
    "content",
    [
        # Known columns beside columns of the tool's own: the header.
        "Date,Url,Text,Sentiment Score,Campaign,Region,Notes\n"
        "2026-11-30T09:00:00Z,https://x.com/a/status/1,Lid,0.5,Q4,FR,\n",
        # A header naming no known column, above rows naming none either: the first line.
        "When,Where,What\n2026-11-30T09:00:00Z,https://x.com/a/status/1,Lid\n",
        # Rows whose cells happen to be column names do not outweigh a header of known ones.
        "Platform,Id,Text,Date,Url\nx,1,text,date,https://x.com/a/status/1\n",
        # Nor a header of names no preset knows: a row holding two known names ("text",
        # "site") is no header below a title, as the first line fills as many cells.
        "When,Who,What,Kind,Where\n"
        "2026-11-30T09:00:00Z,alice,Hello world,text,site\n"
        "2026-11-30T10:00:00Z,bob,Boo,link,channel\n",
        # A row with a cell left empty fills fewer than the header: still no title above it.
        "When,Who,What,Kind,Where\n30/11/2026 09:00,alice,,text,site\n",
    ],
    ids=["extra-columns", "unknown-names", "rows-of-names", "own-names", "own-names-gap"],
)
def test_a_first_line_naming_the_columns_stays_the_header(content):
    table = importing.read_table(content.encode())
    assert table.columns == content.split("\n")[0].split(",")
    assert table.skipped == [] and table.header_line == 1


def test_a_row_of_posts_is_never_the_header_even_below_a_line_that_fills_fewer_cells(
    importer, browser_client, settings
):
    """A row holding two known column names ("text", "site") was taken for the header of
    a user's own export, and the real header reported as a skipped title. Below a header
    that leaves columns unnamed (so it fills fewer cells than its rows), a row still reads
    as a row: it holds a date, a number or a URL, which no column name is."""
    settings.LANGUAGE_CODE = "en"
    for row in (
        "2026-11-30T09:00:00Z,alice,Hello world,text,site",
        "30 Nov 2026 09:00,alice,Hello world,text,site",
        "alice,Hello world,text,site,42",
        "alice,Hello world,text,site,https://example.com/p/1",
    ):
        table = importing.read_table(f"When,Who,What,,\n{row}\n".encode())
        assert table.columns[:3] == ["When", "Who", "What"], row
        assert table.skipped == [] and table.header_line == 1
    content = (
        "When,Who,What,Kind,Where\n"
        "2026-11-30T09:00:00Z,alice,Hello world,text,site\n"
        "2026-11-30T10:00:00Z,bob,Boo,link,channel\n"
    )
    page = upload(browser_client.as_user(importer), content.encode())
    assert page.context["table"].columns == ["When", "Who", "What", "Kind", "Where"]
    assert [line for line, _row in page.context["table"].rows] == [2, 3]
    assert "Skipped" not in text_of(page.content.decode())


def test_column_names_with_underscores_are_found_and_onlinenews_is_press():
    table = importing.read_table(
        b"source_type,post_id,Full_Text,published_at\n"
        b"ONLINENEWS,p1,Lid melted,2026-11-30T09:00:00Z\n"
    )
    mapping = importing.guess_mapping(table.columns, importing.guess_preset(table.columns))
    assert mapping["platform"] == "source_type" and mapping["text"] == "Full_Text"
    assert (mapping["id"], mapping["posted_at"]) == ("post_id", "published_at")
    options = importing.Options(mapping=mapping)
    [(_line, row)] = importing.convert(table, options).rows
    assert row.platform == "press"
