"""The browser import: read, map, preview with per-row errors, import, re-import."""

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from incidents.listening.models import Mention
from incidents.listening.selectors import ImportCounts

pytestmark = pytest.mark.django_db

CSV = (
    "Date;Url;Author;Content;Followers;Sentiment\n"
    "30/11/2026 09:12;https://x.com/a/status/1;@alice;Maison Lumière, livraison ratée;1 200;neg\n"
    "30/11/2026 09:15;https://x.com/b/status/2;@bob;I love Maison Lumière;35;pos\n"
    "not a date;https://x.com/c/status/3;@carl;Maison Lumière again;3;neu\n"
    "30/11/2026 09:20;;@dan;no link so no id;3;neu\n"
)


def upload(client, content: bytes, name="export.csv"):
    return client.post("/listening/import/", {"file": SimpleUploadedFile(name, content)})


def form_data(response, **overrides):
    """The page's form as sent: its fields, and what its preview was made with."""
    form = response.context["mapping"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["previewed"] = response.context.get("previewed", "")
    data.update(overrides)
    return data


def test_a_reader_without_the_import_permission_is_refused(reader, browser_client):
    assert browser_client.as_user(reader).get("/listening/import/").status_code == 403


def test_csv_with_generic_columns_preview_then_import_then_again(
    importer, watch, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, CSV.encode())
    assert first.status_code == 200
    mapping = first.context["mapping"]
    assert mapping["col_posted_at"].value() == "Date" and mapping["col_text"].value() == "Content"
    assert mapping["col_id"].value() == "Url"
    # No platform column: the preview says which field needs one, nothing is stored.
    preview = client.post(
        "/listening/import/", form_data(first, step="preview", platform="x", zone="Europe/Paris")
    )
    conversion = preview.context["conversion"]
    assert len(conversion.mentions) == 2
    errors = {e.line: e.error for e in conversion.errors}
    assert set(errors) == {4, 5} and "not a date" in errors[4]
    assert errors[5] == "“Url” is required."  # the file's column, not our format's "id"
    html = preview.content.decode()
    assert "Line 4" in html and "Import 2 new mentions" in html
    assert "<td>X / Twitter</td>" in html  # the platform's name, not its code
    assert "already stored" not in html and preview.context["counts"].stored == 0
    row = conversion.rows[0][1]
    assert row.posted_at.isoformat() == "2026-11-30T09:12:00+01:00"
    assert row.author_followers == 1200
    assert Mention.objects.count() == 0
    done = client.post("/listening/import/", form_data(preview, step="import"))
    assert done.context["report"].stored == 2
    # "See the mentions": the stream from the end of the day of the file's newest post.
    newest = max(data.posted_at for data in conversion.mentions)
    day = timezone.localtime(newest).date().isoformat()
    assert f'href="/listening/?until={day}"' in done.content.decode()
    assert Mention.objects.filter(source="import").count() == 2
    again = upload(client, CSV.encode())
    second_look = client.post(
        "/listening/import/", form_data(again, step="preview", platform="x", zone="Europe/Paris")
    )
    assert second_look.context["counts"] == ImportCounts(new=0, stored=2, repeated=0)
    html = second_look.content.decode()
    text = re.sub(r"<[^>]+>", "", html)
    assert "0 new mentions will be imported · 2 already stored" in text and "2 refused" in text
    assert 'name="step" value="import"' not in html and "Nothing new to import" in html
    report = client.post("/listening/import/", form_data(second_look, step="import")).context[
        "report"
    ]
    assert report.stored == 0 and report.duplicates == 2


def test_our_own_ndjson_and_json_formats_are_recognised(importer, browser_client):
    client = browser_client.as_user(importer)
    line = (
        '{"platform": "bluesky", "id": "b1", "text": "Bonjour", '
        '"posted_at": "2026-11-30T09:00:00Z", "author": {"handle": "a.bsky.social", '
        '"follows_brand": true}, "in_reply_to": "b0", "reply_to_brand": true}'
    )
    for content, fmt in ((line + "\n{broken\n", "ndjson"), (f"[{line}]", "json")):
        response = upload(client, content.encode(), name="x.txt")
        assert response.context["table"].format == fmt
        conversion = response.context["conversion"]
        row = conversion.rows[0][1]
        assert row.author_handle == "a.bsky.social"
        assert (row.in_reply_to, row.reply_to_brand) == ("b0", True)
        assert row.author_follows_brand is True
    assert [e.line for e in conversion.errors] == []


def test_oversize_and_unreadable_files_are_refused(importer, browser_client, settings):
    client = browser_client.as_user(importer)
    assert "At most 10 MB." in client.get("/listening/import/").content.decode()  # not 10.0
    settings.LISTENING_IMPORT_MAX_BYTES = 2_500_000
    assert "At most 2.5 MB." in client.get("/listening/import/").content.decode()
    settings.LISTENING_IMPORT_MAX_BYTES = 100
    too_big = upload(client, CSV.encode())
    assert too_big.status_code == 413 and "The file is larger than" in too_big.content.decode()
    settings.LISTENING_IMPORT_MAX_BYTES = 10_000
    # Bytes Windows-1252 leaves unassigned (0x81, 0x8D...) are no Western text.
    refused = upload(client, b"Date;Content\n\x81\x8d\x8f;\x90\x9d\n")
    assert refused.status_code == 422 and "UTF-8" in refused.content.decode()
    workbook = upload(client, b"PK\x03\x04" + b"\x00" * 40, name="export.xlsx")
    assert workbook.status_code == 422 and "save it as CSV" in workbook.content.decode()


@pytest.mark.parametrize(
    ("encoding", "note"),
    [
        ("cp1252", "Read as Windows-1252"),
        ("utf-16", "Read as UTF-16"),  # with its byte order mark
        ("utf-16-le", "Read as UTF-16"),  # without
        ("utf-16-be", "Read as UTF-16"),
        ("utf-8", None),
    ],
)
def test_excel_csv_encodings_are_read_and_said(importer, watch, browser_client, encoding, note):
    """French Excel saves "CSV (séparateur: point-virgule)" in Windows-1252, its "Unicode
    text" in UTF-16: both read, the accents intact, the page saying how it read them."""
    client = browser_client.as_user(importer)
    page = upload(client, CSV.encode(encoding))
    assert page.status_code == 200
    html = page.content.decode()
    assert (note in html) if note else ("Read as" not in html)
    stored = client.post(
        "/listening/import/", form_data(page, step="preview", platform="x", zone="UTC")
    )
    texts = [data.text for data in stored.context["conversion"].mentions]
    assert "Maison Lumière, livraison ratée" in texts


def test_an_expired_or_someone_elses_token_is_refused(importer, make_user, browser_client):
    from .conftest import grant

    client = browser_client.as_user(importer)
    first = upload(client, CSV.encode())
    other = grant(make_user("other"), "view_mention", "add_mention")
    response = browser_client.as_user(other).post(
        "/listening/import/", form_data(first, step="import", platform="x")
    )
    assert response.status_code == 302 and Mention.objects.count() == 0
    assert re.search(r"/listening/import/$", response["Location"])


@pytest.mark.parametrize(
    ("preset", "columns", "column"),
    [
        ("generic", ["Date", "Url", "Author", "Content", "Author URL"], "Author URL"),
        ("generic", ["Date", "Url", "Author", "Content", "Profile"], "Profile"),
        ("generic", ["Date", "Link", "Username", "Text", "User URL"], "User URL"),
        ("generic-fr", ["Date", "Lien", "Auteur", "Contenu", "Lien du profil"], "Lien du profil"),
        ("generic-fr", ["Date", "Lien", "Auteur", "Contenu", "Profil"], "Profil"),
        ("generic-fr", ["Date", "Lien", "Auteur", "Contenu", "URL du profil"], "URL du profil"),
    ],
)
def test_the_generic_presets_find_the_authors_profile_column(preset, columns, column):
    from incidents.listening.importing import guess_mapping, guess_preset

    assert guess_preset(columns) == preset
    mapping = guess_mapping(columns, preset)
    assert mapping["author.url"] == column
    assert mapping["url"] != column  # the post's link stays the post's


def test_the_uploaded_file_is_read_back_by_another_worker(importer, browser_client, settings):
    """Preview and import may reach another web worker: the file waits in the shared
    `imports` cache (Redis in production), read here through a fresh connection."""
    from django.core.cache import caches

    from incidents.listening.import_views import IMPORT_CACHE, _cache_key

    client = browser_client.as_user(importer)
    first = upload(client, CSV.encode())
    data = form_data(first, step="preview", platform="x", zone="Europe/Paris")
    if settings.REDIS_URL:
        import redis

        assert "Redis" in settings.CACHES[IMPORT_CACHE]["BACKEND"]
        # Another process's view: a client of its own, nothing shared with this one.
        key = caches[IMPORT_CACHE].make_and_validate_key(_cache_key(importer))
        assert redis.Redis.from_url(settings.REDIS_URL).exists(key)
    del caches[IMPORT_CACHE]  # the next request builds its own connection
    preview = client.post("/listening/import/", data)
    assert preview.status_code == 200 and len(preview.context["conversion"].mentions) == 2
    del caches[IMPORT_CACHE]
    done = client.post("/listening/import/", form_data(preview, step="import"))
    assert done.context["report"].stored == 2


def test_one_pending_upload_per_person(importer, browser_client):
    from django.core.cache import caches

    from incidents.listening.import_views import IMPORT_CACHE, _cache_key

    client = browser_client.as_user(importer)
    first = upload(client, CSV.encode())
    second = upload(client, CSV.encode())
    kept = caches[IMPORT_CACHE].get(_cache_key(importer))
    assert kept[0] == second.context["mapping"]["token"].value()
    # The first upload's form was replaced: it says so, and stores nothing.
    stale = client.post("/listening/import/", form_data(first, step="import", platform="x"))
    assert stale.status_code == 302 and Mention.objects.count() == 0
    preview = client.post("/listening/import/", form_data(second, step="preview", platform="x"))
    done = client.post("/listening/import/", form_data(preview, step="import"))
    assert done.context["report"].stored == 2
    assert caches[IMPORT_CACHE].get(_cache_key(importer)) is None  # forgotten once imported


def test_a_json_array_is_read_item_by_item_and_stops_past_the_row_limit(monkeypatch):
    """Same limit as the CSV and NDJSON readers, reached without decoding the rest of the
    file (a whole-file json.loads of ten million `0,` cost +670 MB)."""
    from incidents.listening import importing

    decoded = []

    class Counting:
        def raw_decode(self, text, position):
            decoded.append(position)
            return importing.json.JSONDecoder().raw_decode(text, position)

    monkeypatch.setattr(importing, "_DECODER", Counting())
    monkeypatch.setattr(importing, "MAX_ROWS", 10)
    with pytest.raises(importing.FileError, match="more than 10 rows"):
        importing.read_table(b"[" + b"0," * 100_000 + b"0]")
    assert len(decoded) == 11
    decoded.clear()
    table = importing.read_table(b' [ {"a": 1} ,\n{"b": {"c": 2}}, 3 ] \n')
    assert [row for _n, row in table.rows] == [{"a": 1}, {"b.c": 2}, {}]
    assert table.columns == ["a", "b.c"]
    for broken in (b"[", b"[1,]", b"[1 2]", b"[1] x", b'[{"a": }]', b"[" * 5000):
        with pytest.raises(importing.FileError, match="not valid JSON"):
            importing.read_table(broken)
    with pytest.raises(importing.FileError, match="no row"):
        importing.read_table(b" [ ] ")


def test_what_is_imported_is_what_was_previewed(importer, browser_client):
    """A column changed after the preview, then Import without previewing again: refused
    (409) with the preview of the new choices, nothing stored until it is imported."""
    content = (
        "platform,id,text,posted_at,author\n"
        "bluesky,swap-1,real complaint text,2026-12-01T10:00:00Z,@someone\n"
        "bluesky,swap-2,another,2026-12-01T10:00:00Z,\n"
    )
    client = browser_client.as_user(importer)
    first = upload(client, content.encode())
    preview = client.post("/listening/import/", form_data(first, step="preview"))
    assert len(preview.context["conversion"].mentions) == 2
    swapped = form_data(preview, step="import", col_text="author")
    refused = client.post("/listening/import/", swapped)
    assert refused.status_code == 409 and Mention.objects.count() == 0
    assert "changed since the preview" in refused.content.decode()
    # The page now shows what these choices give, and imports exactly that.
    assert [d.text for d in refused.context["conversion"].mentions] == ["@someone"]
    done = client.post("/listening/import/", form_data(refused, step="import"))
    assert done.context["report"].stored == 1
    assert list(Mention.objects.values_list("text", flat=True)) == ["@someone"]
    # Without any preview (a form of its own): refused too.
    again = upload(client, content.encode())
    blind = client.post("/listening/import/", form_data(again, step="import", previewed=""))
    assert blind.status_code == 409


def test_the_preview_counts_new_already_stored_repeated_and_refused_by_one_rule(
    importer, browser_client, settings
):
    """Every readable row is new, already stored or a repeat of an earlier row; the button
    names the new ones, and the import stores exactly those."""
    settings.LANGUAGE_CODE = "en"
    head = "platform,id,text,posted_at\n"
    rows = [f"bluesky,c{i},text {i},2026-12-01T10:00:00Z\n" for i in range(3)]
    client = browser_client.as_user(importer)
    first = upload(client, (head + rows[0]).encode())
    preview = client.post("/listening/import/", form_data(first, step="preview"))
    client.post("/listening/import/", form_data(preview, step="import"))
    content = head + "".join(rows) + rows[1] + "bluesky,bad,text,not a date\n"
    second = upload(client, content.encode())
    preview = client.post("/listening/import/", form_data(second, step="preview"))
    # No watch at all: the two new ones would be on no watch's page.
    assert preview.context["counts"] == ImportCounts(new=2, stored=1, repeated=1, unmatched=2)
    html = preview.content.decode()
    text = re.sub(r"<[^>]+>", "", html)
    assert "2 new mentions will be imported · 2 of them match no active watch" in text
    assert "· 1 already stored" in text
    assert "1 repeated in the file: skipped" in text and "1 refused" in text
    assert "Import 2 new mentions" in html and "Nothing new" not in html
    # Each row says how it will be taken (the stored one first, the repeat after its first).
    rows = [(line, status) for line, _data, _platform, status in preview.context["preview"]]
    assert rows == [(2, "stored"), (3, "unmatched"), (4, "unmatched"), (5, "repeated")]
    assert "Already stored: skipped" in text and "Repeated above: skipped" in text
    assert "New, on no watch" in text
    done = client.post("/listening/import/", form_data(preview, step="import"))
    report = done.context["report"]
    assert (report.stored, report.duplicates) == (2, 2)
    # The report says what the preview said, with its words and split.
    assert done.context["counts"] == ImportCounts(new=2, stored=1, repeated=1, unmatched=2)
    text = re.sub(r"<[^>]+>", " ", done.content.decode())
    text = re.sub(r"\s+", " ", text)
    assert "Skipped: already stored (an earlier import, a connector) 1" in text
    assert "Skipped: repeated in the file 1" in text and "duplicates" not in text


def test_the_preview_and_report_count_posts_no_active_watch_matches(
    importer, watch, browser_client, settings
):
    """A file of another brand, or a watch switched off: stored, but on no watch's page and
    in no detection, so the preview says so before the import and the report after it."""
    settings.LANGUAGE_CODE = "en"
    content = (
        "platform,id,text,posted_at\n"
        "bluesky,m1,Maison Lumière a raté ma livraison,2026-12-01T10:00:00Z\n"
        "bluesky,m2,Un autre sujet sans rapport,2026-12-01T10:01:00Z\n"
        "bluesky,m3,#BoycottLumiere,2026-12-01T10:02:00Z\n"
    )
    client = browser_client.as_user(importer)
    preview = client.post(
        "/listening/import/", form_data(upload(client, content.encode()), step="preview")
    )
    assert preview.context["counts"] == ImportCounts(new=3, stored=0, repeated=0, unmatched=1)
    assert "1 of them matches no active watch" in re.sub(r"<[^>]+>", "", preview.content.decode())
    assert [row[3] for row in preview.context["preview"]] == ["", "unmatched", ""]  # which one
    done = client.post("/listening/import/", form_data(preview, step="import"))
    assert done.context["counts"].unmatched == 1
    assert "data-unmatched>1<" in done.content.decode()
    assert Mention.objects.get(external_id="m2").watches.count() == 0


def test_a_utf8_file_with_a_line_in_another_encoding_is_refused_naming_the_line(
    importer, browser_client
):
    """Rows pasted from a Windows-1252 file into a UTF-8 one: read as Windows-1252, every
    other accent would be stored garbled ("trÃ¨s"), so the page names the line to correct."""
    good = "".join(f"bluesky,p{i},très chère bouilloire,2026-12-01T10:00:00Z\n" for i in range(30))
    content = ("platform,id,text,posted_at\n" + good).encode() + (
        "bluesky,bad,une théière,2026-12-01T10:00:00Z\n".encode("cp1252")
    )
    client = browser_client.as_user(importer)
    for data in (content, b"\xef\xbb\xbf" + content):
        refused = upload(client, data)
        html = refused.content.decode()
        assert refused.status_code == 422 and "Line 32 is not UTF-8 text" in html


def test_a_repeated_id_is_counted_by_its_first_row_as_the_ingest_keeps_it(
    importer, watch, browser_client
):
    """The ingest stores a repeated id's first row: the preview's count of rows matching no
    watch reads that row too, and the report says the same."""
    head = "platform,id,text,posted_at\n"
    first_matches = "bluesky,dup,Maison Lumière a fondu,2026-12-01T10:00:00Z\n"
    first_does_not = "bluesky,dup,Something about cars,2026-12-01T10:00:00Z\n"
    client = browser_client.as_user(importer)
    for rows, unmatched in (
        (first_matches + first_does_not, 0),
        (first_does_not + first_matches, 1),
    ):
        Mention.objects.all().delete()
        page = upload(client, (head + rows).encode())
        preview = client.post("/listening/import/", form_data(page, step="preview"))
        assert preview.context["counts"].unmatched == unmatched
        done = client.post("/listening/import/", form_data(preview, step="import"))
        assert done.context["counts"].unmatched == unmatched


def test_a_big_previews_unmatched_count_is_estimated_from_its_first_rows(
    importer, watch, browser_client, monkeypatch, settings
):
    """Matching every row of a 50,000-row file (its language detected) took 7 s a preview:
    past MATCHED_IN_PREVIEW new rows the count is the share of the first ones, and says so;
    the report after the import counts them all. Reach reads as a number (12,500)."""
    from incidents.listening import selectors

    settings.LANGUAGE_CODE = "en"
    monkeypatch.setattr(selectors, "MATCHED_IN_PREVIEW", 2)
    rows = [
        "bluesky,a,Maison Lumière a fondu,12500",
        "bluesky,b,Something about cars,3",
        "bluesky,c,Maison Lumière encore,5",
        "bluesky,d,Nothing to see,7",
    ]
    content = "platform,id,text,author.followers,posted_at\n" + "".join(
        f"{row},2026-12-01T10:00:00Z\n" for row in rows
    )
    client = browser_client.as_user(importer)
    preview = client.post(
        "/listening/import/", form_data(upload(client, content.encode()), step="preview")
    )
    assert preview.context["counts"] == ImportCounts(
        new=4, stored=0, repeated=0, unmatched=2, estimated_from=2
    )
    text = re.sub(r"<[^>]+>", "", preview.content.decode())
    assert "about 2 of them (by the first 2) match no active watch" in text
    assert "12,500" in text
    done = client.post("/listening/import/", form_data(preview, step="import"))
    assert done.context["counts"].unmatched == 2 and not done.context["counts"].estimated_from


def test_repeated_and_blank_column_names_each_get_a_name_of_their_own(importer, browser_client):
    """Two "Date" columns were read as one (the last, so a row with only the first filled
    was refused as having no date), and a blank name could not be chosen."""
    content = "platform,id,text,Date,Date,\nbluesky,a1,Maison Lumière,2026-12-01T10:00:00Z,,extra\n"
    client = browser_client.as_user(importer)
    page = upload(client, content.encode())
    assert page.context["table"].columns == [
        "platform",
        "id",
        "text",
        "Date",
        "Date (2)",
        "Column 6",
    ]
    preview = client.post(
        "/listening/import/",
        form_data(page, step="preview", col_posted_at="Date", col_text="text", col_id="id"),
    )
    assert [d.external_id for d in preview.context["conversion"].mentions] == ["a1"]
    long_name = "Date de publication (heure de Paris - format jj/mm/aaaa)"
    refused = upload(client, f"platform,id,text,{long_name}\nbluesky,b,t,\n".encode())
    preview = client.post(
        "/listening/import/", form_data(refused, step="preview", col_posted_at=long_name)
    )
    errors = [e.error for e in preview.context["conversion"].errors]
    assert errors == ["“Date de publication (heure de Paris - f…” is required."]


def text_of(html: str) -> str:
    """The page's text as read: no tags, entities read, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


# A generic export with no platform column (the platform is chosen for the whole file).
NO_PLATFORM = (
    "Date,Url,Author,Content,Followers\n"
    "30/11/2026 09:12,https://x.com/a/status/1,@alice,Maison Lumière ratée,1200\n"
)


def test_a_file_without_a_platform_column_names_both_ways_out_beside_the_select(
    importer, browser_client, settings
):
    """No preview, and only "Choose a column for: Platform": the select of the whole
    file's platform was far down the page and not named. The message names both ways out,
    the select by its label, and the select stands right below it."""
    settings.LANGUAGE_CODE = "en"
    client = browser_client.as_user(importer)
    first = upload(client, NO_PLATFORM.encode("cp1252"))
    html = first.content.decode()
    assert first.status_code == 200 and first.context["conversion"] is None
    beside = re.search(
        r'<p class="import-hint[^"]*">(.*?)</p>\s*'
        r'<div class="field import-platform-missing">(.*?)</div>',
        html,
        re.S,
    )
    assert beside, html
    assert text_of(beside[1]) == (
        "No column is chosen for the platform: choose the column that gives it "
        "(“Platform”), or the platform of the whole file in “Platform when no column says”. "
        "Then update the preview."
    )
    assert "Platform when no column says" in beside[2] and 'name="platform"' in beside[2]
    assert html.count('name="platform"') == 1  # moved there, not shown twice
    # Windows-1252, but no preview yet: no accents "below" to check.
    encoding = re.search(r'<p class="import-encoding[^"]*">(.*?)</p>', html, re.S)[1]
    assert text_of(encoding) == "Read as Windows-1252 text (Excel's usual CSV on Windows)."
    # Update the preview without choosing: refused, saying the same beside the select.
    refused = client.post("/listening/import/", form_data(first, step="preview"))
    html = refused.content.decode()
    assert refused.status_code == 422
    assert re.search(
        r'<p class="form-error" role="alert">No column is chosen for the platform: [^<]*'
        r"“Platform when no column says”.</p>\s*"
        r'<div class="field import-platform-missing">',
        html,
    ), html
    # Chosen there: the preview, and now the accents below to check.
    preview = client.post("/listening/import/", form_data(first, step="preview", platform="x"))
    html = preview.content.decode()
    assert preview.status_code == 200 and "import-platform-missing" not in html
    assert [d.text for d in preview.context["conversion"].mentions] == ["Maison Lumière ratée"]
    assert html.count('name="platform"') == 1
    encoding = re.search(r'<p class="import-encoding[^"]*">(.*?)</p>', html, re.S)[1]
    assert text_of(encoding) == (
        "Read as Windows-1252 text (Excel's usual CSV on Windows). "
        "Check the accents in the preview below."
    )
    # With a missing text column too, both are named, and the way out for the platform.
    only_dates = upload(client, b"Date,Followers\n30/11/2026 09:12,3\n")
    assert (
        "Choose a column for: Platform, Id on the platform, Text. For the platform you may "
        "instead choose the platform of the whole file in “Platform when no column says”."
    ) in text_of(only_dates.content.decode())


def test_the_missing_platform_message_in_french(importer, browser_client, settings):
    settings.LANGUAGE_CODE = "fr"
    client = browser_client.as_user(importer)
    text = text_of(upload(client, NO_PLATFORM.encode()).content.decode())
    assert (
        "Aucune colonne n’est choisie pour la plateforme : choisissez la colonne qui la "
        "donne (« Plateforme »), ou la plateforme de tout le fichier dans « Plateforme si "
        "aucune colonne ne la donne »."
    ) in text


def test_a_row_after_now_without_a_zone_gets_the_zone_hint_up_to_14_hours_ahead(
    importer, browser_client, settings
):
    """A Tokyo file read as UTC lands nine hours ahead: the hint to choose the zone was
    given only up to the ingest's one hour. Any row written without a zone that some zone
    (at most 14 hours ahead of UTC) puts in the past gets it; one dated with its zone, or
    after now in every zone, is said to be after now, without the hint."""
    from datetime import UTC, timedelta

    from django.utils import timezone

    settings.LANGUAGE_CODE = "en"
    now = timezone.now().astimezone(UTC)

    def at(**ahead):
        return (now + timedelta(**ahead)).strftime("%Y-%m-%d %H:%M")

    content = (
        "platform,id,text,posted_at\n"
        f"bluesky,past,Maison Lumière,{at(minutes=-30)}\n"
        f"bluesky,paris,Maison Lumière,{at(minutes=90)}\n"
        f"bluesky,tokyo,Maison Lumière,{at(hours=9)}\n"
        f"bluesky,kiribati,Maison Lumière,{at(hours=13, minutes=50)}\n"
        f"bluesky,beyond,Maison Lumière,{at(hours=15)}\n"
        f"bluesky,zoned,Maison Lumière,{(now + timedelta(hours=2)).isoformat()}\n"
    )
    client = browser_client.as_user(importer)
    preview = client.post(
        "/listening/import/",
        form_data(upload(client, content.encode()), step="preview", zone="UTC"),
    )
    assert [d.external_id for d in preview.context["conversion"].mentions] == ["past"]
    errors = {e.line: e.error for e in preview.context["conversion"].errors}
    for line in (3, 4, 5):
        assert errors[line].startswith("Posted after now ("), errors[line]
        assert errors[line].endswith(
            ") when read in the UTC time zone: are the file's times in another zone? Choose "
            "the zone they are written in."
        )
    assert errors[6].startswith("“posted_at” is after now (")
    assert errors[6].endswith("), whatever the time zone.")
    assert errors[7].endswith("), in the time zone the file gives.")
    assert "zone they are written in" in text_of(preview.content.decode())
    # Read in Tokyo's zone, its row is in the past.
    tokyo = client.post("/listening/import/", form_data(preview, step="preview", zone="Asia/Tokyo"))
    assert "tokyo" in [d.external_id for d in tokyo.context["conversion"].mentions]


def test_a_quote_left_open_is_said_first_naming_the_lines_it_swallowed(
    importer, browser_client, settings
):
    """Line 8 opens a quote that swallows line 9: the refusal led with the row's other
    reason and line 9, a good row, was lost unnamed (or, when the row still read, stored
    inside row 8's text without a word). Now a refusal opens with the quote, the line it
    opens on and the lines it swallowed, naming the good rows among them; a row that reads
    whole is imported, with a warning naming them (a text written over lines on purpose,
    holding a line that reads as a row, reads the same: the person tells them apart)."""
    settings.LANGUAGE_CODE = "en"
    when = "2026-12-01T10:00:00Z"
    good = "".join(f"bluesky,g{n},Maison Lumière {n},{when},1\n" for n in range(2, 8))
    content = (
        "platform,id,text,posted_at,author.followers\n"
        + good
        + f'bluesky,q8,"Broken quote,{when},12\n'  # line 8: opens a quote
        + f"bluesky,q9,Good row on line 9,{when},800\n"
        + f'bluesky,q10,He said "hi",{when},5\n'  # closes it: row 8 reads, wrongly
        + f"bluesky,q11,Fine again,{when},1\n"
        + f'bluesky,q12,"Never closed,{when},1\n'  # line 12: opens a quote to the end
        + f"bluesky,q13,Good row on line 13,{when},2\n"
    )
    client = browser_client.as_user(importer)
    preview = client.post(
        "/listening/import/", form_data(upload(client, content.encode()), step="preview")
    )
    conversion = preview.context["conversion"]
    ids = [d.external_id for d in conversion.mentions]
    assert ids == [f"g{n}" for n in range(2, 8)] + ["q8", "q11"]
    errors = {e.line: e.error for e in conversion.errors}
    assert set(errors) == {12}
    assert [(w.line, w.error) for w in conversion.warnings] == [
        (
            8,
            "A quote opens on line 8 and runs to line 10: lines 9 to 10 were read into one "
            "of this row's cells. Line 9 reads as a row of its own: imported inside this "
            "row's text. If the quote was left open, close it in the file and upload the "
            "file again.",
        )
    ]
    html = text_of(preview.content.decode())
    assert "To check once imported" in html and "Line 8: A quote opens on line 8" in html
    assert errors[12] == (
        "A quote opens on line 12 and runs to line 13: line 13 was read into one of this "
        "row's cells. Line 13 is a good row of its own, lost unless the quote is closed: "
        "close it in the file and upload the file again. "
        "As read, the row is refused: “posted_at” is required."
    )
    assert "Line 12: A quote opens on line 12" in text_of(preview.content.decode())
    # A cell written over two lines on purpose is stored as it is.
    legit = (
        "platform,id,text,posted_at\n"
        f'bluesky,m1,"Maison Lumière,\nlivraison ratée",{when}\n'
        f'bluesky,m2,"Maison Lumière\nencore",not a date\n'
    )
    preview = client.post(
        "/listening/import/", form_data(upload(client, legit.encode()), step="preview")
    )
    conversion = preview.context["conversion"]
    assert [d.text for d in conversion.mentions] == ["Maison Lumière,\nlivraison ratée"]
    assert conversion.warnings == []
    # Valid CSV: its own reason alone, no quote to close (test_import_clarity_messages).
    assert [e.error for e in conversion.errors] == [
        "“not a date” is not a date this import reads: it reads dates such as 31/12/2026 "
        "09:12 (or with dashes or dots: 31-12-2026), 31 Dec 2026 09:12, Dec 31, 2026 or "
        "2026-12-31T09:12:00Z, and Unix times. (This row runs on to line 5.)"
    ]


def test_a_zone_typed_as_its_city_is_refused_with_the_zone_to_choose(importer, browser_client):
    content = "platform,id,text,posted_at\nbluesky,one,Maison Lumière,2026-11-30 10:00\n"
    client = browser_client.as_user(importer)
    page = form_data(upload(client, content.encode()), step="preview", zone="paris")
    html = text_of(client.post("/listening/import/", page).content.decode())
    assert "Unknown time zone “paris”. Did you mean Europe/Paris?" in html
    page["zone"] = "new york"
    html = text_of(client.post("/listening/import/", page).content.decode())
    assert "Did you mean America/New_York?" in html
    page["zone"] = "Atlantis"
    html = text_of(client.post("/listening/import/", page).content.decode())
    assert "Unknown time zone “Atlantis”." in html and "Did you mean" not in html
