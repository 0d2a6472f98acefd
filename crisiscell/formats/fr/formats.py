"""French: "1 déc. 2026 13:05" (day, abbreviated month, year, 24-hour clock). "N", not
"M": Django's three-letter French months read "Jui" for both juin and juillet."""

DATE_FORMAT = "j N Y"
SHORT_DATE_FORMAT = "j N Y"
DATETIME_FORMAT = "j N Y H:i"
SHORT_DATETIME_FORMAT = "j N Y H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j N"
