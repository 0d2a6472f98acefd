"""The import preview says the real problem first (a new-user pass): a text written over
two lines inside a closed quote is valid CSV, not "a quote left open"; a language written
by its name ("english", "Français") is read as its code, and a value that is no language
says what is expected. On a phone, the "Columns" heading stays whole beside a long file
name."""

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from incidents.listening.ingest import RowError, language_from_name, parse

from .conftest import post

pytestmark = pytest.mark.django_db

HEADER = "platform,id,text,posted_at,language\n"
WHEN = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def preview(client, content: str, name="export.csv", language="en"):
    """The file uploaded, then its preview with the columns the page chose."""
    file = SimpleUploadedFile(name, content.encode())
    page = client.post("/listening/import/", {"file": file}, HTTP_ACCEPT_LANGUAGE=language)
    form = page.context["mapping"]
    data = {field: form[field].value() or "" for field in form.fields}
    data.update(previewed=page.context.get("previewed", ""), step="preview")
    return client.post("/listening/import/", data, HTTP_ACCEPT_LANGUAGE=language)


def test_a_text_over_two_lines_with_a_language_name_is_imported_without_a_word(
    importer, browser_client, settings
):
    """The new user's row: a closed quote holding two lines, and "english" for a language.
    Before: "… Is the quote left open? …", the language last. Now: imported, as "en"."""
    settings.LANGUAGE_CODE = "en"
    content = HEADER + (
        f'bluesky,m1,"Le couvercle a fondu\nvraiment déçu",{WHEN},english\n'
        f"bluesky,m2,Une ligne,{WHEN},Français\n"
        f"bluesky,m3,One line,{WHEN},French\n"
    )
    response = preview(browser_client.as_user(importer), content)
    conversion = response.context["conversion"]
    assert conversion.errors == [] and conversion.warnings == []
    assert [(d.external_id, d.language) for d in conversion.mentions] == [
        ("m1", "en"),
        ("m2", "fr"),
        ("m3", "fr"),
    ]
    assert conversion.mentions[0].text == "Le couvercle a fondu\nvraiment déçu"
    html = text_of(response.content.decode())
    assert "quote" not in html and "Refused rows" not in html
    assert "Import 3 new mentions" in html


def test_a_refused_row_over_two_lines_says_its_own_reason_not_a_quote(
    importer, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    content = HEADER + f'bluesky,k1,"Two lines\nof text",{WHEN},Klingon\n'
    response = preview(browser_client.as_user(importer), content)
    [error] = response.context["conversion"].errors
    assert (error.line, error.error) == (
        2,
        "“language” “Klingon” is not a language: give its code (such as fr, en or en-US) or "
        "its name (such as French, English or Français). (This row runs on to line 3.)",
    )
    html = text_of(response.content.decode())
    assert "Line 2: “language” “Klingon” is not a language" in html
    assert "quote" not in html


def test_the_quote_hint_comes_only_when_a_line_inside_reads_as_a_row(
    importer, browser_client, settings
):
    """A quote left open swallows the lines after it: they have a row's cells (here refused
    ones, a bad date, so no "good row" to name), and the hint leads, naming them."""
    settings.LANGUAGE_CODE = "en"
    content = HEADER + (
        f'bluesky,q1,"Broken quote,{WHEN},fr\n'  # line 2: opens a quote to the end
        "bluesky,q2,Swallowed,not a date,fr\n"
        "bluesky,q3,Swallowed too,not a date,fr\n"
    )
    response = preview(browser_client.as_user(importer), content)
    [error] = response.context["conversion"].errors
    assert error.line == 2
    assert error.error.startswith(
        "A quote opens on line 2 and runs to line 4: lines 3 to 4 were read into one of this "
        "row's cells. Lines 3, 4 have a row's number of cells: is the quote left open? Close "
        "it in the file and upload the file again. As read, the row is refused: "
    )
    # Closed further on, the row reads whole: imported, with the lines to check named.
    content = HEADER + (
        f'bluesky,w1,"Opens here,{WHEN},fr\n'
        f'bluesky,w2,Swallowed,not a date,fr",{WHEN},fr\n'  # the quote closes: a long text
    )
    conversion = preview(browser_client.as_user(importer), content).context["conversion"]
    assert conversion.errors == []
    assert [(w.line, w.error) for w in conversion.warnings] == [
        (
            2,
            "A quote opens on line 2 and runs to line 3: line 3 was read into one of this "
            "row's cells. Line 3 has a row's number of cells: imported inside this row's "
            "text. If the quote was left open, close it in the file and upload the file "
            "again.",
        )
    ]


def test_the_messages_read_in_french(importer, browser_client):
    content = HEADER + (
        f'bluesky,k1,"Deux lignes\nde texte",{WHEN},klingon\n'
        f'bluesky,q1,"Guillemet ouvert,{WHEN},fr\n'
        "bluesky,q2,Avalée,pas une date,fr\n"
    )
    response = preview(browser_client.as_user(importer), content, language="fr")
    html = text_of(response.content.decode())
    assert (
        "« language » « klingon » n’est pas une langue : indiquez son code (comme fr, en ou "
        "en-US) ou son nom (comme Français, Anglais ou English). (Cette ligne du fichier se "
        "poursuit jusqu’à la ligne 3.)" in html
    )
    assert (
        "La ligne 5 a autant de cellules qu’une ligne du fichier : le guillemet est-il resté "
        "ouvert ?" in html
    )


@pytest.mark.parametrize(
    ("written", "code"),
    [("english", "en"), ("English", "en"), (" ENGLISH ", "en"), ("Anglais", "en"),
     ("Français", "fr"), ("francais", "fr"), ("French", "fr"), ("Deutsch", "de"),
     ("allemand", "de"), ("español", "es"), ("Portuguese", "pt"), ("Chinese", "zh"),
     ("Klingon", None), ("∞", None), ("", None)],
)  # fmt: skip
def test_a_language_written_by_its_name_is_read_as_its_code(written, code):
    assert language_from_name(written) == code
    row = post("n1", language=written)
    if code:
        assert parse(row).language == code
    elif written:  # "" is no language given: detected when stored
        with pytest.raises(RowError, match="is not a language: give its code"):
            parse(row)


def test_codes_and_tags_are_read_as_before():
    """A name is read only where a code is not: "en-US", "fr_CA", "und" as before."""
    assert [parse(post(f"t{i}", language=tag)).language for i, tag in enumerate(
        ["en-US", "fr_CA", "und", "", "PT-br"]
    )] == ["en", "fr", "", "", "pt"]  # fmt: skip


def test_the_columns_heading_stays_whole_beside_a_long_file_name(
    importer, browser_client, settings
):
    """At 390 px "Columns" broke mid-word ("Column / s"), squeezed by the file's name: the
    head wraps instead (the name goes under it) and only the name may break anywhere."""
    settings.LANGUAGE_CODE = "en"
    name = "listening_mentions_export_2026-11-30_final_version.csv"
    client = browser_client.as_user(importer)
    page = client.post(
        "/listening/import/",
        {"file": SimpleUploadedFile(name, (HEADER + f"bluesky,a,b,{WHEN},en\n").encode())},
    )
    html = page.content.decode()
    head = re.search(r'<div class="panel-head import-file-head">(.*?)</div>', html, re.S)
    assert head, html
    assert '<h2 id="mapping-title">Columns</h2>' in head.group(1)
    assert '<p class="small muted import-file">' + name in head.group(1)
    css = (Path(django_settings.BASE_DIR) / "static/css/app.css").read_text()
    rules = dict(re.findall(r"^(\.import-file-head[^{]*)\{([^}]*)\}", css, re.M))
    assert "flex-wrap: wrap" in rules[".import-file-head "]
    assert "flex: none" in rules[".import-file-head h2 "]  # never narrower than its word
    assert "overflow-wrap: anywhere" in rules[".import-file-head p "]


def test_a_text_over_several_lines_with_doubled_quotes_stays_one_post():
    """The sniffer guessed `doublequote` off for such a file and split the post into broken
    rows (a verification pass): only the delimiter is guessed."""
    from incidents.listening.importing import read_table

    data = (
        b"post_id,platform,text,posted_at\n"
        b'a1,bluesky,"first line\nsecond with a ""quote""\nthird",2026-12-03T13:15:23Z\n'
        b"a2,bluesky,plain,2026-12-03T13:16:23Z\n"
    )
    table = read_table(data)
    assert [values["post_id"] for _line, values in table.rows] == ["a1", "a2"]
    assert table.rows[0][1]["text"] == 'first line\nsecond with a "quote"\nthird'
    semicolons = read_table(b'id;text\n1;"a ""b""\nc"\n2;d\n')
    assert [values["id"] for _line, values in semicolons.rows] == ["1", "2"]
