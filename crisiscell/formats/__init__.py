"""The project's date formats (settings.FORMAT_MODULE_PATH): every date shown to people
names its month and uses a 24-hour clock, in English and in French, so "01/12" can never
be read as 12 January by one reader and 1 December by another. Templates use the named
formats (`|date:"SHORT_DATETIME_FORMAT"`), Python code incidents.localtime.shown, the live
timeline's script the same format the server sends it (incidents/templatetags/crisis.py,
`date_format_attrs`). Input formats are Django's own for each language."""
