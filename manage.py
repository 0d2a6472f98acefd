#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisiscell.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 (imports the settings, which read the environment)
    except ImproperlyConfigured as error:
        # A variable the settings refuse (crisiscell/settings.py) is the operator's to fix:
        # its one line, as Django says a command's error, rather than a traceback through
        # Django's internals ending with it (Django re-raises it from whichever command
        # touches settings first). --traceback shows it all.
        if "--traceback" in sys.argv:
            raise
        sys.exit(f"ImproperlyConfigured: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
