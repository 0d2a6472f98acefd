from django import template

from incidents import localtime

register = template.Library()


# "2 h 05": the one rule (incidents.localtime.duration).
duration = register.filter("duration", localtime.duration)
