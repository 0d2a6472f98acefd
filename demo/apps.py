from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py load_demo`: demo accounts, playbooks and incidents for `make run`. It uses
    every app, so it lives above them all."""

    name = "demo"
    verbose_name = "Demo data"
