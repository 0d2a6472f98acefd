"""Production mode refuses unsafe configurations before serving anything."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "CRISISCELL_MODE": "production",
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/crisiscell",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "crisis.example.com",
}


def load_settings(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in GOOD}
    env.update({k: v for k, v in {**GOOD, **overrides}.items() if v is not None})
    code = "import django; django.setup(); print('started')"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "crisiscell.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_start_when_fully_configured():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"REDIS_URL": None}, "REDIS_URL is required"),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "PostgreSQL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
    ],
)
def test_production_settings_refuse_unsafe_configuration(overrides, message):
    result = load_settings(**overrides)
    assert result.returncode != 0
    assert message in result.stderr
