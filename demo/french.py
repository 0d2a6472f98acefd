"""The demo's French texts, typeset as the catalogue is: a no-break space before : and a
narrow one before ; ! ? and inside « » (crisiscell/typography.py, the one rule). The demo
data is written with ordinary spaces, readable in the source; `typeset` applies the rule
to every text of a constant when the module loads (English texts have no space there, so
they stay as they are)."""

from crisiscell.typography import french_spacing


def typeset(data):
    """`data` (texts in lists, tuples and dicts, nested) with french_spacing applied to
    every text; dict keys, numbers and other values as they are."""
    if isinstance(data, str):
        return french_spacing(data)
    if isinstance(data, dict):
        return {key: typeset(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(typeset(value) for value in data)
    return data
