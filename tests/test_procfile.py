"""The Procfile's web process, expanded by sh as honcho (and most platforms) run it."""

import os
import subprocess
from pathlib import Path

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


def web_arguments(**env) -> list[str]:
    """The web command's arguments after the shell has expanded them."""
    lines = PROCFILE.read_text().splitlines()
    command = next(line.split(":", 1)[1] for line in lines if line.startswith("web:"))
    environ = {key: value for key, value in os.environ.items() if key != "WEB_CONCURRENCY"}
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", f"printf '%s\\n' {command}"],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def option(arguments: list[str], name: str) -> str:
    return arguments[arguments.index(name) + 1]


def test_the_web_process_runs_one_worker_per_core_by_default():
    assert option(web_arguments(), "--workers") == str(len(os.sched_getaffinity(0)))


def test_web_concurrency_sets_the_workers():
    assert option(web_arguments(WEB_CONCURRENCY="3"), "--workers") == "3"


def test_the_web_process_keeps_its_production_options():
    arguments = web_arguments(PORT="8123")
    assert option(arguments, "--port") == "8123"
    assert option(arguments, "--lifespan") == "off"
    assert option(arguments, "--ws-per-message-deflate") == "false"
    assert "--proxy-headers" in arguments
