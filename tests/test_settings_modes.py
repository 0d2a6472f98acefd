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
        ({"LANGUAGE_CODE": "de"}, "LANGUAGE_CODE must be one of en, fr"),
    ],
)
def test_production_settings_refuse_unsafe_configuration(overrides, message):
    result = load_settings(**overrides)
    assert result.returncode != 0
    assert message in result.stderr


def test_a_french_team_sets_the_sites_language():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.LANGUAGE_CODE)"
    )
    result = load_settings(code, LANGUAGE_CODE="fr")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["fr"]


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


DB_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; "
    "db = settings.DATABASES['default']; "
    "print(db['CONN_MAX_AGE'], db.get('OPTIONS', {}).get('pool'))"
)


def test_production_pools_its_database_connections():
    result = load_settings(DB_SETTINGS, DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="7")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(maxsplit=1) == [
        "0",
        "{'min_size': 1, 'max_size': 7, 'timeout': 30}\n",
    ]


def test_without_the_pool_connections_live_as_long_as_said():
    result = load_settings(DB_SETTINGS, DB_POOL_MAX_SIZE="0", DB_CONN_MAX_AGE="30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["30", "None"]


def test_a_pool_smaller_than_its_minimum_is_refused():
    result = load_settings(DB_POOL_MIN_SIZE="5", DB_POOL_MAX_SIZE="2")
    assert result.returncode != 0
    assert "DB_POOL_MIN_SIZE" in result.stderr


def test_a_sqlite_database_url_is_refused_with_the_setting_to_use():
    result = load_settings(CRISISCELL_MODE=None, DATABASE_URL="sqlite:////tmp/crisis.sqlite3")
    assert result.returncode != 0
    assert "SQLITE_PATH" in result.stderr


def test_the_embedded_database_runs_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
        "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])"
    )
    env = {k: None for k in GOOD}
    result = load_settings(code, **env, SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000"]


SCHEDULER = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.EMBEDDED_SCHEDULER)"
)


def test_the_embedded_mode_runs_its_schedule_itself_by_default(tmp_path):
    env = {k: None for k in GOOD}
    result = load_settings(SCHEDULER, **env, SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]


def test_with_a_broker_celery_beat_runs_the_schedule(tmp_path):
    env = {k: None for k in GOOD if k != "REDIS_URL"}
    sqlite = str(tmp_path / "db.sqlite3")
    result = load_settings(SCHEDULER, **env, SQLITE_PATH=sqlite, REDIS_URL="redis://h:6379/3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]
    assert load_settings(SCHEDULER).stdout.split() == ["False"]  # production


def test_production_refuses_the_embedded_scheduler():
    """Every web worker would run it, beside the beat."""
    result = load_settings(EMBEDDED_SCHEDULER="true")
    assert result.returncode != 0
    assert "EMBEDDED_SCHEDULER is for the embedded mode" in result.stderr


def manage(*args, **variables):
    """`manage.py <args>` run with this environment and `variables`."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **variables},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["check", "runserver"])
@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        (
            "LISTENING_FEEDS",
            '[{"url": "https://news.example/rss"},]',
            "Expecting value at line 1, column 38.",
        ),
        (
            "LISTENING_MASTODON",
            '[{"base_url": "https://social.example",\n  "access_token": "s3cr3t-t0ken"',
            "Expecting ',' delimiter at line 2, column 33 (the text ends there).",
        ),
    ],
)
def test_a_json_setting_that_does_not_read_is_said_in_one_line(command, name, value, said):
    """Where the JSON is wrong, without a traceback through Django, nor the value (a
    Mastodon access token)."""
    result = manage(command, **{name: value})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"ImproperlyConfigured: {name} is not valid JSON: {said}\n"


def test_no_character_of_the_value_is_quoted():
    """Where the JSON is wrong may be a token's first character (a token left unquoted):
    the line and column say where, nothing of it is shown."""
    value = '[{"base_url": "https://m.example", "access_token": Zs3cr3t}]'
    result = manage("check", LISTENING_MASTODON=value)
    assert result.stderr == (
        "ImproperlyConfigured: LISTENING_MASTODON is not valid JSON: Expecting value at "
        "line 1, column 52.\n"
    )


def test_json_nested_too_deeply_is_said_in_one_line():
    """Python's parser gives up on it (RecursionError), which would print a traceback."""
    result = manage("check", LISTENING_FEEDS="[" * 20000 + "]" * 20000)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "ImproperlyConfigured: LISTENING_FEEDS cannot be read: its JSON nests lists or "
        "objects too deeply.\n"
    )


def test_with_traceback_the_whole_traceback_is_shown():
    result = manage("check", "--traceback", LISTENING_FEEDS="[")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().endswith(
        "ImproperlyConfigured: LISTENING_FEEDS is not valid JSON: Expecting value at line 1, "
        "column 2 (the text ends there)."
    )


@pytest.mark.parametrize("bad", [b"\\u0000", b"\xff"], ids=["nul", "non-utf8-byte"])
def test_check_warns_of_an_address_no_database_stores(bad):
    """A NUL (JSON "\\u0000") or a byte that is not UTF-8 in the variable (Python reads it
    as a lone surrogate): not an http(s) URL, said by the check without the address."""
    environ = dict(os.environb)
    environ[b"LISTENING_FEEDS"] = b'[{"url": "https://a.example/' + bad + b'"}]'
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        timeout=60,
    )
    said = (
        b"(listening.W001) LISTENING_FEEDS, entry 1 of 1: url holds a control character or a "
        b"byte that is not UTF-8."
    )
    assert said in result.stderr and b"a.example" not in result.stderr
