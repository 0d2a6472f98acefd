"""What the public files tell link previews, search engines and printers: Open Graph in
the page's language, canonical addresses, `noindex` on every preview (and nothing public
for a dark page), a print stylesheet."""

from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)


def read(name: str) -> str:
    return (Path(settings.CRISIS_CENTER_ROOT) / name).read_text()


def test_open_graph_in_each_language_and_no_noindex_on_public_files(live_page):
    english = read("rumour/en/index.html")
    url = f"{settings.CRISIS_CENTER_URL.rstrip('/')}/rumour/en/"
    assert f'<meta property="og:url" content="{url}">' in english
    assert f'<link rel="canonical" href="{url}">' in english
    assert '<meta property="og:title" content="About the rumour concerning Acme">' in english
    assert '<meta property="og:locale" content="en_GB">' in english
    assert '<meta property="og:locale:alternate" content="fr_FR">' in english
    assert '<meta property="article:modified_time" content="' in english
    french = read("rumour/fr/index.html")
    assert '<meta property="og:locale" content="fr_FR">' in french
    assert '<meta property="og:locale:alternate" content="en_GB">' in french
    index = read("fr/index.html")
    assert '<meta property="og:type" content="website">' in index
    assert (
        f'<meta property="og:url" content="{settings.CRISIS_CENTER_URL.rstrip("/")}/fr/">' in index
    )
    for name in ("rumour/en/index.html", "rumour/index.html", "index.html", "en/index.html"):
        assert "noindex" not in read(name)  # the public files are meant to be found


def test_every_preview_is_noindex(dark_page, browser_client, observer, incident):
    client = browser_client.as_user(observer)
    empty = client.get(f"/incidents/{incident.pk}/crisis-page/preview/")  # nothing approved
    assert empty.status_code == 200 and empty["X-Robots-Tag"] == "noindex, nofollow"
    assert empty["Cache-Control"] == "private, no-store"


def test_the_stylesheet_prints_the_words_not_the_controls(live_page):
    css = read("crisis.css")
    print_rules = css[css.index("@media print") :]
    for hidden in (".languages", ".subscribe", ".feeds", ".skip"):
        assert hidden in print_rules.split("display: none")[0]
    assert "break-inside: avoid" in print_rules and "break-after: avoid" in print_rules
