"""French typography: the no-break spaces around French punctuation.

French writes a space before ; : ! ? and inside « »; an ordinary space there lets a phone
wrap the line between the mark and its word ("… manquent" / ": …", a lone « at a line's
end). `make messages` runs this module over the French catalogue after makemessages and
before compilemessages:

    python -m crisiscell.typography locale/fr/LC_MESSAGES/django.po

tests/test_french_typography.py checks the compiled catalogue, so a new translation cannot
bring ordinary spaces back.
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NBSP = "\u00a0"  # no-break space: before a colon
NNBSP = "\u202f"  # narrow no-break space: before ; ! ? and inside « »

# What the rule never touches (the marks in them are not French prose, and none of them
# holds an ordinary space that matters): code, markup, placeholders and addresses.
PROTECTED = re.compile(
    r"""
      ```.*?(?:```|\Z)                                  # a fenced code block
    | `[^`\n]*`                                         # inline code
    | <(code|pre|kbd|samp)\b[^>]*>.*?</\1\s*>            # code elements, whole
    | <!--.*?-->                                        # an HTML comment
    | </?[A-Za-z][^<>]*>                                # a tag and its attributes
    | \{\{.*?\}\} | \{%.*?%\}                           # template variables and tags
    | \{[^{}\s]*\}                                      # str.format: {name}, {0}, {when:%H:%M}
    | %(?:\([^()\s]*\))?[-\#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]  # %(name)s, %s, %d, %%
    | (?:https?|ftp|mailto):[^\s<>"]+                    # an address
    | ^(?:[ ]{4}|\t)[^\n]*                             # an indented (Markdown) code line
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
# Only an ordinary space (U+0020) that is already there: nothing is inserted.
BEFORE_COLON = re.compile(r" (?=:)")
BEFORE_NARROW = re.compile(r" (?=[;!?»])")
AFTER_OPENING = re.compile(r"(?<=«) ")


def _prose(text):
    text = BEFORE_COLON.sub(NBSP, text)
    text = BEFORE_NARROW.sub(NNBSP, text)
    return AFTER_OPENING.sub(NNBSP, text)


def french_spacing(text: str) -> str:
    """The French text with its ordinary spaces at the punctuation made unbreakable
    ({NBSP} and {NNBSP} below stand for the two no-break spaces):

    "Veille : %(name)s"           -> "Veille{NBSP}: %(name)s"       U+00A0 before :
    "Vraiment ?" "Non !" "a ; b"  -> "Vraiment{NNBSP}?" ...          U+202F before ? ! ;
    "« %(v)s »"                   -> "«{NNBSP}%(v)s{NNBSP}»"          U+202F inside « »

    Only an ordinary space directly before ; : ! ? » or directly after « changes; where
    there is no space ("14:30", "https://…", "«%(v)s»") nothing is inserted, and the
    no-break spaces already there stay, so a second pass changes nothing. Left as they
    are: HTML tags and their attributes, <code>/<pre>/<kbd>/<samp> elements, `code`,
    fenced and indented code lines, placeholders (%(name)s, %s, {name}, {{ var }},
    {% tag %}) and addresses.
    """
    pieces = []
    position = 0
    for match in PROTECTED.finditer(text):
        pieces.append(_prose(text[position : match.start()]))
        pieces.append(match.group())
        position = match.end()
    pieces.append(_prose(text[position:]))
    return "".join(pieces)


# The catalogue file: what msgmerge writes. Only msgstr strings are rewritten, the rest of
# the file is kept line for line; a changed msgstr is then wrapped again by msgcat (the
# same code as msgmerge's, so the next makemessages rewraps nothing).
MSGSTR = re.compile(r'^(msgstr(?:\[\d+\])?) (".*")$')
STRING_LINE = re.compile(r'^".*"$')
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
ESCAPES.update({"f": "\f", "v": "\v"})
QUOTED = {value: f"\\{key}" for key, value in ESCAPES.items()}
UNESCAPE = re.compile(r"\\(.)")


def _unquote(line):
    return UNESCAPE.sub(lambda match: ESCAPES.get(match.group(1), match.group(0)), line[1:-1])


def _quote(text):
    return '"' + "".join(QUOTED.get(char, char) for char in text) + '"'


def apply_to_po(source: str) -> str:
    """The .po text with french_spacing applied to every msgstr but the header's."""
    lines = source.split("\n")
    out = []
    msgid = None  # the current entry's msgid lines, to recognise the header
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("msgid "):
            msgid = [line]
            while index < len(lines) and STRING_LINE.match(lines[index]):
                msgid.append(lines[index])
                index += 1
            out.extend(msgid)
            continue
        match = MSGSTR.match(line)
        if not match:
            out.append(line)
            continue
        block = [match.group(2)]
        while index < len(lines) and STRING_LINE.match(lines[index]):
            block.append(lines[index])
            index += 1
        text = "".join(_unquote(part) for part in block)
        spaced = text if msgid == ['msgid ""'] else french_spacing(text)
        if spaced == text:
            out.append(line)
            out.extend(block[1:])
        else:
            out.append(f"{match.group(1)} {_quote(spaced)}")
    return "\n".join(out)


def rewrite_po(path) -> bool:
    """Apply french_spacing to the catalogue at path in place; True when it changed."""
    path = Path(path)
    source = path.read_text(encoding="utf-8")
    spaced = apply_to_po(source)
    if spaced == source:
        return False
    msgcat = shutil.which("msgcat")
    if msgcat is None:
        raise RuntimeError("msgcat (GNU gettext) is needed to wrap the catalogue's lines")
    with tempfile.NamedTemporaryFile("w", suffix=".po", encoding="utf-8", delete=False) as tmp:
        tmp.write(spaced)
    # To a file of the same directory, then renamed: never a half-written catalogue.
    wrapped = path.with_name(path.name + ".tmp")
    try:
        subprocess.run([msgcat, "-o", str(wrapped), tmp.name], check=True)  # noqa: S603
        wrapped.replace(path)
    finally:
        Path(tmp.name).unlink()
        wrapped.unlink(missing_ok=True)
    return True


def main(argv=None):
    paths = (argv if argv is not None else sys.argv[1:]) or ["locale/fr/LC_MESSAGES/django.po"]
    for path in paths:
        changed = rewrite_po(path)
        print(f"{path}: {'French spacing applied' if changed else 'unchanged'}")


if __name__ == "__main__":
    main()
