"""Two ASGI server processes behind one Redis: an event written through one reaches clients
connected to either. Production mode only: the in-memory layer lives in one process."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = [
    pytest.mark.skipif(
        not settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis.")
        or connection.vendor != "postgresql",
        reason="needs the production stack (PostgreSQL + Redis)",
    ),
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",
    }
    return subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "uvicorn",
            "crisiscell.asgi:application",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


async def receive(ws, present: set) -> dict | None:
    """The next message; a presence message only adds its users to `present` (None), and
    the server's status messages (live or paused) are skipped."""
    payload = json.loads(await asyncio.wait_for(ws.recv(), 10))
    if payload.get("type") == "presence":
        # A delta names one person; a roster (incidents/presence.py) lists them all.
        present.update(e["user"] for e in payload.get("entries", [payload]))
        return None
    if payload.get("type") == "status":
        return None
    return payload


@pytest.fixture
def two_servers():
    ports = [free_port(), free_port()]
    servers = [start_server(port) for port in ports]
    try:
        for port in ports:
            wait_until_up(port)
        yield ports
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def test_an_entry_written_through_one_process_reaches_clients_of_both(
    two_servers, incident, lead, drafter, observer
):
    import websockets

    cookies = []
    for user in (drafter, observer):
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    token = Token.objects.create(user=lead).key
    first, second = two_servers

    async def scenario():
        sockets = []
        for port, cookie in zip((first, second), cookies, strict=True):
            sockets.append(
                await websockets.connect(
                    f"ws://127.0.0.1:{port}/ws/incidents/{incident.pk}/",
                    origin=f"http://127.0.0.1:{port}",
                    additional_headers={"Cookie": f"sessionid={cookie}"},
                )
            )
        request = urllib.request.Request(
            f"http://127.0.0.1:{first}/api/incidents/{incident.pk}/timeline/",
            data=json.dumps({"kind": "note", "text": "Seen by both"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
            method="POST",
        )
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(None, urllib.request.urlopen, request)
        seq = json.loads(response.read())["seq"]
        present, received = [set(), set()], []
        for ws, seen in zip(sockets, present, strict=True):
            event = None
            while event is None:
                event = await receive(ws, seen)
            received.append(event)
        # Presence crosses processes too: each client learns of the other.
        for ws, seen, other in zip(sockets, present, (observer, drafter), strict=True):
            while other.pk not in seen:
                await receive(ws, seen)
        for ws in sockets:
            await ws.close()
        return seq, received

    seq, received = asyncio.run(scenario())
    assert [(p["seq"], p["entry"]["text"]) for p in received] == [(seq, "Seen by both")] * 2
