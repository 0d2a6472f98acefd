"""French typography (crisiscell/typography.py): the compiled French catalogue writes a
no-break space before : and a narrow one before ; ! ? and inside « », never an ordinary
space a phone could wrap at; the rule keeps placeholders, markup and code as they are."""

import gettext
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crisiscell.typography import NBSP, NNBSP, apply_to_po, french_spacing, rewrite_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "fr" / "LC_MESSAGES"
BREAKABLE = re.compile(r" [;:!?»]|« ")


def french_msgstrs():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    return {key: text for key, text in catalog.items() if key != ""}  # "" is the header


def test_no_french_msgstr_has_an_ordinary_space_at_its_punctuation():
    strings = french_msgstrs()
    assert len(strings) > 2000  # the real catalogue
    breakable = {key: text for key, text in strings.items() if BREAKABLE.search(text)}
    assert not breakable, "run `make messages` (crisiscell/typography.py)"
    # The rule also holds for what the function knows (a second pass changes nothing).
    assert all(french_spacing(text) == text for text in strings.values())


def test_the_catalogue_writes_both_no_break_spaces():
    text = "".join(french_msgstrs().values())
    assert f"{NBSP}:" in text and f"{NNBSP};" in text and f"{NNBSP}?" in text
    assert f"«{NNBSP}" in text and f"{NNBSP}»" in text
    assert f"{NNBSP}:" not in text and f"{NBSP};" not in text  # one convention per mark


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Veille : %(name)s", f"Veille{NBSP}: %(name)s"),
        ("Vraiment ? Non ! Oui ; peut-être", f"Vraiment{NNBSP}? Non{NNBSP}! Oui{NNBSP}; peut-être"),
        ("« %(v)s »", f"«{NNBSP}%(v)s{NNBSP}»"),
        ("« {name} » : {count}", f"«{NNBSP}{{name}}{NNBSP}»{NBSP}: {{count}}"),
        (" :", f"{NBSP}:"),  # between a label and its value
        ("Total : 100 %", f"Total{NBSP}: 100 %"),
        ("{{ brand }} : {% if x %}", f"{{{{ brand }}}}{NBSP}: {{% if x %}}"),
        # Nothing is inserted where there is no space.
        (
            "«%(v)s» à 14:30, https://example.com/a?b=1;c",
            "«%(v)s» à 14:30, https://example.com/a?b=1;c",
        ),
        ("Quoi?!", "Quoi?!"),
        # Only ordinary spaces change: a tab, a line break or a no-break space stays.
        ("a\n: b\t; c", "a\n: b\t; c"),
        (f"déjà{NNBSP}: gardé", f"déjà{NNBSP}: gardé"),
    ],
)
def test_french_spacing(text, expected):
    assert french_spacing(text) == expected
    assert french_spacing(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "placeholder",
    [
        "%(name)s",
        "%s",
        "%d",
        "%(n)d",
        "%%",
        "{name}",
        "{0}",
        "{when:%H:%M}",
        "{{ incident.title }}",
    ],
)
def test_placeholders_stay_as_they_are(placeholder):
    assert french_spacing(f"Valeur : {placeholder} ?") == f"Valeur{NBSP}: {placeholder}{NNBSP}?"


def test_markup_and_code_stay_as_they_are():
    html = (
        '<a href="/x?y=1" title="Vraiment ?" data-sep=" : ">Importez ; « ici »</a> : '
        "<code>a ? b : c</code> <!-- note : ici --> `x ? y : z` ?"
    )
    spaced = french_spacing(html)
    assert spaced == (
        f'<a href="/x?y=1" title="Vraiment ?" data-sep=" : ">Importez{NNBSP}; '
        f"«{NNBSP}ici{NNBSP}»</a>{NBSP}: <code>a ? b : c</code> <!-- note : ici --> "
        f"`x ? y : z`{NNBSP}?"
    )
    assert tags(spaced) == tags(html)
    code = "Lancez :\n\n    manage.py check : ok ?\n\n```\nx = a ? b : c\n```\nFini !"
    assert french_spacing(code) == (
        f"Lancez{NBSP}:\n\n    manage.py check : ok ?\n\n```\nx = a ? b : c\n```\nFini{NNBSP}!"
    )


def test_the_catalogues_html_stays_valid():
    with_html = [text for text in french_msgstrs().values() if "</" in text]
    assert with_html
    for text in with_html:
        opened = []
        for kind, tag in tags(text):
            if kind == "start":
                opened.append(tag)
            else:
                assert opened.pop() == tag, text
        assert not opened, text


def tags(html):
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append(("start", tag))

        def handle_endtag(self, tag):
            found.append(("end", tag))

    Parser().feed(html)
    return found


PO = """\
# A translator's comment : kept.
msgid ""
msgstr ""
"Project-Id-Version: PACKAGE VERSION\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

#: incidents/views.py
#, python-format
msgctxt "page title : context"
msgid "Watch: %(name)s"
msgstr "Veille : %(name)s"

#: templates/listening/import.html
#, fuzzy, python-format
#| msgid "Old: %(n)s"
msgid "%(n)s row: \\"%(v)s\\""
msgid_plural "%(n)s rows: \\"%(v)s\\""
msgstr[0] "%(n)s ligne : « %(v)s »"
msgstr[1] ""
"%(n)s lignes : « %(v)s »\\n"
"Vraiment ?"

msgid "Kept"
msgstr "Déjà prêt : rien à faire"

#~ msgid "Gone: x"
#~ msgstr "Parti : x"
"""


def test_the_po_rewrite_changes_the_french_msgstrs_only():
    spaced = apply_to_po(PO)
    assert spaced.splitlines()[:11] == PO.splitlines()[:11]  # comments, header, msgctxt
    assert f'msgstr "Veille{NBSP}: %(name)s"' in spaced
    assert f'msgstr[0] "%(n)s ligne{NBSP}: «{NNBSP}%(v)s{NNBSP}»"' in spaced
    assert f'msgstr[1] "%(n)s lignes{NBSP}: «{NNBSP}%(v)s{NNBSP}»\\nVraiment{NNBSP}?"' in spaced
    for kept in ('msgid_plural "%(n)s rows: \\"%(v)s\\""', "#| msgid", '#~ msgstr "Parti : x"'):
        assert kept in spaced
    assert apply_to_po(spaced) == spaced


@pytest.mark.skipif(not shutil.which("msgcat"), reason="GNU gettext's msgcat is not installed")
def test_the_rewritten_catalogue_is_wrapped_as_gettext_wraps_it(tmp_path):
    po = tmp_path / "django.po"
    # makemessages wrapped it after the « ("…de tout le fichier dans « " / "%(select)s »").
    long = (
        "Aucune colonne n’est choisie pour la plateforme : choisissez la colonne qui la "
        "donne (« %(field)s »), ou la plateforme de tout le fichier dans « %(select)s »."
    )
    po.write_text(PO + f'\nmsgid "Long"\nmsgstr "{long}"\n', encoding="utf-8")

    assert rewrite_po(po) is True
    written = po.read_text(encoding="utf-8")
    assert "Project-Id-Version: PACKAGE VERSION" in written and "#~ msgid" in written
    assert f'\n"«{NNBSP}%(select)s{NNBSP}»."\n' in written  # « goes with its word
    assert all(len(line) <= 80 for line in written.splitlines())
    assert rewrite_po(po) is False and po.read_text(encoding="utf-8") == written
