"""The listening import's preview on a phone (390 px): the table scrolls sideways inside
its card, its headers stay on one line ("Line", not "Lin/e") and its rows stay short; a
French Excel file (Windows-1252) is read with its accents, and the import button says it
is working once clicked; the import button comes after the preview, its refused rows
and its warnings."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import grant

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
CSV = (
    "Platform;Date;Url;Author;Profile URL;Content;Followers;Verified\n"
    "twitter;30/11/2026 09:12;https://x.com/alice/status/1234567890123456789;@alice;"
    "https://x.com/alice;Maison Lumière, livraison ratée, toujours rien après trois semaines;"
    "1 200;yes\n"
    "twitter;30/11/2026 09:15;https://x.com/bob/status/2;@bob;https://x.com/bob;"
    "I love Maison Lumière;35;maybe\n"
    "twitter;someday;https://x.com/carl/status/3;@carl;https://x.com/carl;Lid;5;no\n"
)


def test_the_preview_scrolls_sideways_with_one_line_headers(signed_in, django_user_model):
    importer = outside_the_browser_loop(
        lambda: grant(
            django_user_model.objects.create_user("importer", password=PASSWORD),
            "view_mention",
            "add_mention",
        )
    )
    tab = signed_in(importer)
    tab.set_viewport_size(PHONE)
    tab.goto("/listening/import/")
    tab.set_input_files(
        "input[type=file]",
        files=[{"name": "export.csv", "mimeType": "text/csv", "buffer": CSV.encode("cp1252")}],
    )
    tab.get_by_role("button", name="Read the file").click()
    # The generic preset finds the author's profile column by its usual name.
    expect(tab.locator("#id_col_author_url")).to_have_value("Profile URL")
    tab.get_by_role("button", name="Update the preview").click()
    table = tab.locator(".preview-table")
    expect(table).to_be_visible()
    expect(tab.locator(".import-encoding")).to_contain_text("Read as Windows-1252")
    expect(table).to_contain_text("Maison Lumière, livraison ratée")
    # The text, whose accents the page asks to check, is the first column after the line's
    # number: on screen without scrolling sideways.
    text_cell = table.locator(".preview-text").first.bounding_box()
    assert text_cell["x"] < PHONE["width"] / 3, text_cell

    heights = table.evaluate(
        """t => [...t.querySelectorAll("th, td")].map(cell => {
            const style = getComputedStyle(cell);
            const lines = (cell.clientHeight - parseFloat(style.paddingTop)
                           - parseFloat(style.paddingBottom)) / parseFloat(style.lineHeight);
            return [cell.tagName, cell.textContent.trim().slice(0, 20), lines];
        })"""
    )
    headers = [(text, lines) for tag, text, lines in heights if tag == "TH"]
    assert all(lines < 1.5 for _text, lines in headers), headers
    # A row is as tall as its longest cell: a short text, not a URL one character wide.
    assert max(lines for tag, _text, lines in heights if tag == "TD") < 6, heights
    wrap = tab.locator(".import-preview .table-wrap")
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")  # it scrolls, not the page
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    # The table says it scrolls sideways (the Text column alone fills the phone).
    expect(tab.locator(".table-scroll-hint")).to_be_visible()
    hint = tab.locator(".table-scroll-hint").bounding_box()
    assert hint["y"] + hint["height"] <= wrap.bounding_box()["y"], hint

    # The import button comes after all there is to read before deciding: the preview's
    # counts (the rows to check among them) and rows, then the refused rows and the
    # warnings (the columns' form above it is a long scroll on a phone).
    button = tab.locator("button[value=import]")
    expect(tab.locator(".import-counts")).to_contain_text("1 refused · 1 to check.")
    summary = tab.locator(".import-counts").bounding_box()
    assert summary["y"] + summary["height"] <= button.bounding_box()["y"], summary
    assert table.bounding_box()["y"] < button.bounding_box()["y"]
    for listed in (tab.locator(".import-errors").first, tab.locator(".import-warnings")):
        expect(listed).to_be_visible()
        box = listed.bounding_box()
        assert box["y"] + box["height"] <= button.bounding_box()["y"], box
    expect(tab.locator(".import-warnings")).to_contain_text("Line 3: “Verified” says “maybe”")
    # The dates stay on one line.
    dates = table.evaluate(
        """t => [...t.querySelectorAll("tbody td:nth-child(3)")].map(
            cell => getComputedStyle(cell).whiteSpace)"""
    )
    assert set(dates) == {"nowrap"}, dates

    # One click: the button turns into what the wait is for (the submission itself is held
    # back here, so the page stays to be read).
    tab.evaluate(
        """() => document.querySelector("form.import-mapping")
            .addEventListener("submit", (event) => event.preventDefault())"""
    )
    expect(button).to_have_text("Import 2 new mentions")
    button.click()
    expect(button).to_be_disabled()
    expect(button).to_have_text("Importing… (a big file takes a while)")
    # Working, not off: it keeps its look (a disabled button is faded).
    assert button.evaluate("b => getComputedStyle(b).opacity") == "1"
    # On a desktop the table fits: no word of scrolling.
    tab.set_viewport_size({"width": 1280, "height": 900})
    expect(tab.locator(".table-scroll-hint")).to_be_hidden()
    assert not wrap.evaluate("w => w.scrollWidth > w.clientWidth")


UNKNOWN = (
    "Date,Author,Text,Url,Platform,Verified\n"
    "2026-11-30 09:12,@alice,Kettle lid melted,https://tumblr.com/a/1,Tumblr,yes\n"
    "2026-11-30 09:13,@bob,Lid again,https://threads.net/b/2,Threads,maybe\n"
    "2026-11-30 09:15,@dan,Lid,https://x.com/d/status/4,Twitter,no\n"
) + "".join(  # a preview of 20 rows: the refused rows are screens below the box
    f"2026-11-30 10:{n:02},@u{n},Lid {n},https://x.com/u/status/{n},Twitter,no\n" for n in range(20)
)


def test_a_refusal_takes_a_phone_to_the_choice_and_the_report_repeats_the_preview(
    signed_in, django_user_model
):
    """The refused rows name "Import rows with an unknown platform as Other", two screens
    above them on a phone: the name is a link that takes the reader to the box, focused.
    Ticked and imported, the report says how many rows were stored as Other and how many
    are to check, as the preview did."""
    importer = outside_the_browser_loop(
        lambda: grant(
            django_user_model.objects.create_user("importer", password=PASSWORD),
            "view_mention",
            "add_mention",
        )
    )
    tab = signed_in(importer)
    tab.set_viewport_size(PHONE)
    tab.goto("/listening/import/")
    tab.set_input_files(
        "input[type=file]",
        files=[{"name": "export.csv", "mimeType": "text/csv", "buffer": UNKNOWN.encode()}],
    )
    tab.get_by_role("button", name="Read the file").click()
    box = tab.locator("#id_unknown_as_other")
    link = tab.locator(".import-errors a[href='#id_unknown_as_other']").first
    link.scroll_into_view_if_needed()
    assert box.evaluate("b => b.getBoundingClientRect().bottom < 0")  # screens above
    link.click()
    expect(box).to_be_focused()
    expect(box).to_be_in_viewport()
    # Room above it for the first line of its label (two lines on a phone), not the box
    # at the very top edge, and an outline on the choice the link led to.
    choice = tab.locator(".import-unknown-platform")
    label = choice.locator("label").bounding_box()
    assert label["height"] > 30 and label["y"] >= 16, label
    assert choice.evaluate("c => getComputedStyle(c).outlineStyle") == "solid"
    tab.keyboard.press("Space")  # focused: the keyboard ticks it
    expect(box).to_be_checked()
    tab.get_by_role("button", name="Update the preview").click()
    counts = tab.locator(".import-counts")
    expect(counts).to_contain_text(
        "2 of them as “Other” (a platform this import does not know) · 1 to check."
    )
    tab.locator("button[value=import]").click()
    expect(tab.get_by_role("heading", name="Import done")).to_be_visible()
    expect(tab.locator("[data-other]")).to_have_text("2")
    expect(tab.locator("[data-to-check]")).to_have_text("1")
    expect(tab.locator(".import-report .import-unknown-platforms")).to_contain_text(
        "2 rows give a platform this import does not know, read as “Other”"
    )
    tab.get_by_role("link", name="Imported, to check").click()
    expect(tab.locator("#import-to-check")).to_be_in_viewport()
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_choice_a_refusal_links_to_is_outlined_on_a_desktop(signed_in, django_user_model):
    """On a desktop the link focuses the box without a keyboard: no focus ring of its own,
    so the choice it led to is outlined (it was not, and the eye searched for it)."""
    importer = outside_the_browser_loop(
        lambda: grant(
            django_user_model.objects.create_user("importer", password=PASSWORD),
            "view_mention",
            "add_mention",
        )
    )
    tab = signed_in(importer)
    tab.set_viewport_size({"width": 1280, "height": 900})
    tab.goto("/listening/import/")
    tab.set_input_files(
        "input[type=file]",
        files=[{"name": "export.csv", "mimeType": "text/csv", "buffer": UNKNOWN.encode()}],
    )
    tab.get_by_role("button", name="Read the file").click()
    choice = tab.locator(".import-unknown-platform")
    assert choice.evaluate("c => getComputedStyle(c).outlineStyle") == "none"
    tab.locator(".import-errors a[href='#id_unknown_as_other']").first.click()
    expect(tab.locator("#id_unknown_as_other")).to_be_focused()
    assert choice.evaluate("c => getComputedStyle(c).outlineStyle") == "solid"
    assert choice.bounding_box()["y"] >= 16
