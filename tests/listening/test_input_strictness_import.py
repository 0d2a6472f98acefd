"""The browser import's input paths, made strict by a break-it pass: bounded column names,
binary files told by their content, Unix times read as the bulk API reads them, local
times the clocks skipped or repeated, a tampered mapping, an import sent twice."""

import gzip
import json

import pytest

from incidents.listening import importing
from incidents.listening.importing import MAX_COLUMN_NAME, MAX_COLUMNS
from incidents.listening.models import Mention

from .test_import_page import form_data, upload

pytestmark = pytest.mark.django_db


ROW = "x;1;Maison Lumière: livraison ratée;2026-11-30T09:12:00Z\n"


def test_the_page_stays_small_whatever_the_column_names(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    # The break-it file: 200 columns named by 39,000 characters each (7.8 MB) made a 265 MB
    # preview page (each name in each of the 17 selects).
    names = ",".join(f"{i}" + "n" * 39_000 for i in range(200))
    refused = upload(client, (names + "\n" + ",".join(["a"] * 200) + "\n").encode())
    html = refused.content.decode()
    assert refused.status_code == 422 and len(refused.content) < 50_000
    assert "The name of column 1 is 39,001 characters long (at most 100)" in html
    assert "add a header line" in html
    # A first line read as one cell (no separator the reader knows): said as such, not in
    # the csv module's words.
    one_cell = upload(client, ("n" * 50_000 + "\n").encode())
    assert one_cell.status_code == 422 and len(one_cell.content) < 50_000
    assert "The first line holds a cell longer than 40,000 characters" in (
        one_cell.content.decode()
    )
    # The widest file read: 200 columns of 100-character names, previewed within 1.5 MB.
    longest = [f"{i:03d}" + "c" * (MAX_COLUMN_NAME - 3) for i in range(MAX_COLUMNS - 4)]
    header = ";".join(["platform", "id", "text", "posted_at", *longest])
    row = ROW.rstrip("\n") + ";" * len(longest) + "\n"
    read = upload(client, (header + "\n" + row * 3).encode())
    assert read.status_code == 200 and len(read.context["table"].columns) == MAX_COLUMNS
    assert len(read.content) < 1_500_000
    # One column more is refused, saying what to do; blank names a spreadsheet leaves at
    # the end are not counted.
    wider = upload(client, (header + ";extra\n" + row.replace("\n", ";\n") * 3).encode())
    assert wider.status_code == 422
    assert "The file has 201 columns: at most 200 are read" in wider.content.decode()
    blank_end = upload(
        client, (header + ";" * 30 + "\n" + row.replace("\n", ";" * 30 + "\n") * 3).encode()
    )
    assert blank_end.status_code == 200


def test_json_keys_are_bounded_as_csv_column_names(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    item = {"platform": "x", "id": "1", "text": "t", "posted_at": "2026-11-30T09:12:00Z"}
    long_key = upload(client, json.dumps([{**item, "k" * 5_000: 1}]).encode(), "a.json")
    assert long_key.status_code == 422 and len(long_key.content) < 50_000
    assert "A key of the objects is 5,000 characters long (at most 100)" in (
        long_key.content.decode()
    )
    many = upload(client, json.dumps([{**item, **{f"k{i}": i for i in range(300)}}]).encode())
    assert many.status_code == 422
    assert "The objects hold 304 different keys: at most 200 are read" in many.content.decode()


XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\x3e\x00\x03\x00\xfe\xff" + b"\x00" * 500


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (XLS, "This is an Excel 97-2003 workbook (.xls), not a text export"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, "not a text export: save it as CSV"),
        (gzip.compress(b"Date;Content\n30/11/2026;hello\n"), "This is a compressed archive"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "This is a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", "This is not a text export"),
        (bytes(range(1, 9)) * 100 + b"Date;Content\n", "This is not a text export"),
    ],
)
def test_a_binary_file_is_told_by_its_content_not_its_name(
    importer, browser_client, settings, content, said
):
    """Named export.csv, an .xls, a gzip, a PDF or an image was refused as "not UTF-8"."""
    settings.LANGUAGE_CODE = "en"
    refused = upload(browser_client.as_user(importer), content, name="export.csv")
    html = refused.content.decode()
    assert refused.status_code == 422 and said in html
    assert "is not UTF-8" not in html and "not valid UTF-16" not in html
    assert "CSV" in html  # what to upload instead


def test_unix_times_read_alike_as_numbers_and_strings(importer, browser_client):
    """A Unix time in milliseconds given as a JSON number was refused while the same as a
    string was read; both are read by the bulk API's rule (ingest.unix_time)."""
    base = {"platform": "x", "text": "Maison Lumière"}
    items = [
        {**base, "id": "s-number", "posted_at": 1764493920},
        {**base, "id": "s-string", "posted_at": "1764493920"},
        {**base, "id": "ms-number", "posted_at": 1764493920123},
        {**base, "id": "ms-string", "posted_at": "1764493920123"},
        {**base, "id": "bad", "posted_at": 12345},
    ]
    response = upload(browser_client.as_user(importer), json.dumps(items).encode(), "a.json")
    conversion = response.context["conversion"]
    times = {data.external_id: data.posted_at.isoformat() for _line, data in conversion.rows}
    assert times == {
        "s-number": "2025-11-30T09:12:00+00:00",
        "s-string": "2025-11-30T09:12:00+00:00",
        "ms-number": "2025-11-30T09:12:00.123000+00:00",
        "ms-string": "2025-11-30T09:12:00.123000+00:00",
    }
    assert [(e.line, e.error) for e in conversion.errors] == [
        (
            5,
            "“posted_at” is a number that is not a Unix time: give seconds (10 digits), "
            "milliseconds (13 digits) or an ISO 8601 date and time.",
        )
    ]


def test_a_local_time_the_clocks_repeated_or_skipped_is_refused_saying_what_to_write(
    importer, browser_client, settings
):
    """Europe/Paris, 25 October 2026 02:30 happened twice (it was silently taken as the
    first) and 29 March 2026 02:30 never happened: each row says what to write."""
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    csv = (
        "Platform;Id;Content;Date\n"
        "x;1;Maison Lumière;25/10/2026 02:30\n"
        "x;2;Maison Lumière;29/03/2026 02:30\n"
        "x;3;Maison Lumière;25/10/2026 03:30\n"
        "x;4;Maison Lumière;2026-10-25T02:30+01:00\n"
    )
    first = upload(client, csv.encode())
    preview = client.post(
        "/listening/import/", form_data(first, step="preview", zone="Europe/Paris")
    )
    conversion = preview.context["conversion"]
    errors = {e.line: e.error for e in conversion.errors}
    assert errors[2] == (
        "“Date” “25/10/2026 02:30” happened twice in the Europe/Paris time zone (the clocks "
        "went back that night), and the file does not say which: write it with its UTC offset "
        "in the file, 2026-10-25T02:30+02:00 for the first time (summer time) or "
        "2026-10-25T02:30+01:00 for the second (winter time), or export the times in UTC, "
        "then upload the file again."
    )
    assert errors[3].startswith(
        "“Date” “29/03/2026 02:30” did not exist in the Europe/Paris time zone"
    )
    assert "Choose the zone they are written in" in errors[3]
    assert errors[3].endswith(
        ": 2026-03-29T02:30+01:00 (winter time, which the clocks showed as 03:30) or "
        "2026-03-29T02:30+02:00 (summer time, which the clocks showed as 01:30)."
    )
    assert set(errors) == {2, 3}
    times = {data.external_id: data.posted_at.isoformat() for _line, data in conversion.rows}
    assert times == {"3": "2026-10-25T03:30:00+01:00", "4": "2026-10-25T02:30:00+01:00"}
    assert "happened twice in the Europe/Paris time zone" in preview.content.decode()


def test_a_tampered_mapping_is_said_on_the_page(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, ("platform;id;text;posted_at\n" + ROW).encode())
    tampered = client.post(
        "/listening/import/", form_data(first, step="preview", col_text="x" * 10_000)
    )
    html = tampered.content.decode()
    assert tampered.status_code == 422
    assert "Some choices sent are not among this page&#x27;s lists" in html
    assert "Not a column of this file: choose one in the list." in html
    assert "x" * 100 not in html  # what was sent is not echoed
    for field in ("platform", "date_order", "preset"):
        other = client.post("/listening/import/", form_data(first, step="preview", **{field: "?"}))
        assert other.status_code == 422
        assert "Not one of the choices: choose one in the list." in other.content.decode()
    # A zone left empty is said beside its field alone.
    no_zone = client.post("/listening/import/", form_data(first, step="preview", zone=""))
    assert no_zone.status_code == 422 and "Some choices sent" not in no_zone.content.decode()


def test_an_import_sent_again_says_it_was_done_and_imports_nothing_twice(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, ("platform;id;text;posted_at\n" + ROW).encode(), "lumiere.csv")
    preview = client.post("/listening/import/", form_data(first, step="preview"))
    sent = form_data(preview, step="import")
    done = client.post("/listening/import/", sent)
    assert done.context["report"].stored == 1
    again = client.post("/listening/import/", sent, follow=True)
    html = again.content.decode()
    assert again.redirect_chain == [("/listening/?until=2026-11-30", 302)]
    assert "“lumiere.csv” was already imported: nothing was imported again." in html
    assert "has expired" not in html
    assert Mention.objects.count() == 1
    # Someone else's token, or one never imported, still reads as expired.
    other = client.post("/listening/import/", {**sent, "token": "not-the-token"}, follow=True)
    assert "The uploaded file has expired" in other.content.decode()
    # A token or preview that is not ASCII (a tampered form) is no match, not a 500.
    tampered = client.post("/listening/import/", {**sent, "token": "é"}, follow=True)
    assert "The uploaded file has expired" in tampered.content.decode()


def test_a_tampered_preview_fingerprint_is_no_match(importer, browser_client):
    client = browser_client.as_user(importer)
    first = upload(client, ("platform;id;text;posted_at\n" + ROW).encode(), "lumiere.csv")
    preview = client.post("/listening/import/", form_data(first, step="preview"))
    sent = form_data(preview, step="import", previewed="é" * 10)
    assert client.post("/listening/import/", sent).status_code == 409
    assert Mention.objects.count() == 0


def test_an_optional_flag_the_import_cannot_read_is_left_unknown_with_a_warning(
    importer, browser_client, settings
):
    """A "Twitter Verified" column (mapped by itself) holding "verified" or "-" refused the
    whole row: the post is imported, the flag left unknown, and the row listed to check;
    Y and N read as yes and no."""
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    content = (
        "Date,Url,Author,Full Text,Page Type,Twitter Verified\n"
        "2026-11-30T09:12:00Z,https://x.com/a/status/1,alice,Maison Lumière,twitter,verified\n"
        "2026-11-30T09:13:00Z,https://x.com/a/status/2,bob,Maison Lumière,twitter,-\n"
        "2026-11-30T09:14:00Z,https://x.com/a/status/3,carl,Maison Lumière,twitter,Y\n"
        "2026-11-30T09:15:00Z,https://x.com/a/status/4,dan,Maison Lumière,twitter,n\n"
        "2026-11-30T09:16:00Z,https://x.com/a/status/5,eve,Maison Lumière,twitter,-\n"
        "not a date,https://x.com/a/status/6,fay,Maison Lumière,twitter,-\n"
    )
    first = upload(client, content.encode())
    conversion = first.context["conversion"]
    assert [(line, d.author_handle, d.author_verified) for line, d in conversion.rows] == [
        (2, "alice", None),
        (3, "bob", None),
        (4, "carl", True),
        (5, "dan", False),
        (6, "eve", None),
    ]
    assert [error.line for error in conversion.errors] == [7]  # its date, not its flag
    assert "Twitter Verified" not in conversion.errors[0].error
    warnings = {warning.line: warning.error for warning in conversion.warnings}
    assert warnings == {
        2: "“Twitter Verified” says “verified”, which is not true or false (or 1 or 0, yes or "
        "no): the post is imported without it.",
        3: "“Twitter Verified” says “-”, which is not true or false (or 1 or 0, yes or no): the "
        "post is imported without it.",
        6: "“Twitter Verified” says “-”, which is not true or false (or 1 or 0, yes or no): the "
        "post is imported without it.",
    }
    html = first.content.decode()
    assert (
        "To check once imported" in html and "says “verified”, which is not true or false" in html
    )
    done = client.post("/listening/import/", form_data(first, step="import"))
    assert "Imported, to check" in done.content.decode()
    assert done.context["report"].stored == 5
    stored = dict(Mention.objects.values_list("author_handle", "author_verified"))
    assert stored == {"alice": None, "bob": None, "carl": True, "dan": False, "eve": None}


def test_a_json_import_keeps_a_post_whose_follows_brand_flag_is_unreadable():
    rows = [
        {
            "platform": "bluesky",
            "id": "j1",
            "text": "Maison Lumière",
            "posted_at": "2026-11-30T09:12:00Z",
            "author": {"follows_brand": 2, "verified": "oui"},
            "reply_to_brand": "maybe",
        }
    ]
    table = importing.read_table(json.dumps(rows).encode())
    options = importing.Options(mapping={key: key for key in table.columns})
    conversion = importing.convert(table, options)
    ((_line, data),) = conversion.rows
    assert (data.author_follows_brand, data.author_verified, data.reply_to_brand) == (
        None,
        True,
        False,
    )
    assert [(w.line, w.error.split(", which")[0]) for w in conversion.warnings] == [
        (1, "“author.follows_brand” says “2”"),
        (1, "“reply_to_brand” says “maybe”"),
    ]
