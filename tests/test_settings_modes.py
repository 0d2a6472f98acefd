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


def load_settings(code="import django; django.setup(); print('started')", **overrides):
    env = {k: v for k, v in os.environ.items() if k not in GOOD}
    env.update({k: v for k, v in {**GOOD, **overrides}.items() if v is not None})
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


def channel_layer(redis_url):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "layer = settings.CHANNEL_LAYERS['default']; "
        "print(layer['BACKEND'], layer['CONFIG']['prefix'])"
    )
    result = load_settings(code, REDIS_URL=redis_url)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_uses_the_redis_pub_sub_layer():
    backend, _prefix = channel_layer("redis://127.0.0.1:6379/0")
    assert backend == "channels_redis.pubsub.RedisPubSubChannelLayer"


def test_sites_on_different_redis_databases_do_not_hear_each_other():
    """Redis pub/sub channels ignore the database number; the prefix carries it."""
    prefixes = {channel_layer(url)[1] for url in ("redis://h:6379", "redis://h:6379/0")}
    assert len(prefixes) == 1  # no number means database 0
    assert channel_layer("redis://h:6379/6")[1] not in prefixes
