"""French: "1 déc. 2026 13:05" (day, abbreviated month, year, 24-hour clock). "N", not
"M": Django's three-letter French months read "Jui" for both juin and juillet."""

from django.utils.translation import pgettext_lazy

DATE_FORMAT = "j N Y"
SHORT_DATE_FORMAT = "j N Y"
DATETIME_FORMAT = "j N Y H:i"
SHORT_DATETIME_FORMAT = "j N Y H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j N"

# Django's French catalogue abbreviates January and February "jan." and "fév."; the usual
# French abbreviations, "janv." and "févr.", are in locale/fr. Named here so that
# `make messages` (makemessages --no-obsolete) keeps them in the catalogue.
USUAL_ABBREVIATIONS = (
    pgettext_lazy("abbrev. month", "Jan."),
    pgettext_lazy("abbrev. month", "Feb."),
)
