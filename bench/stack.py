"""What bench/fanout.py and bench/http_load.py share: a scratch database, the web process
started as the Procfile starts it, the CPU its processes use, and percentiles.

Never imported by the application; the scripts put the project root on sys.path first.
"""

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def production_env(database_url: str, redis_url: str, **extra) -> dict:
    """The environment of a production-mode process on loopback (bench secrets only)."""
    return {
        "CRISISCELL_MODE": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def create_database(database_url: str) -> None:
    """Creates the URL's database if it does not exist (never drops one)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def procfile_web() -> str:
    """The `web:` command of the Procfile, as honcho would run it (through sh)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("No web process in the Procfile")


class WebServer:
    """The Procfile's web process (uvicorn, --workers from WEB_CONCURRENCY), in a session of
    its own so that stopping it stops its workers too. Its output goes to a log file,
    printed if it fails to start."""

    def __init__(
        self, port: int, workers: int | None, env: dict, extra_args: str = "", log: str = ""
    ):
        self.port, self.workers, self.log_path = port, workers, log
        # The server's own database settings (its pool), not the ones this process uses.
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DB_POOL_", "DB_CONN_MAX_AGE", "WEB_CONCURRENCY"))
        }
        self.env = {**inherited, **env, "HOST": "127.0.0.1", "PORT": str(port)}
        if workers:
            self.env["WEB_CONCURRENCY"] = str(workers)
        # `python` in the Procfile is this virtualenv's.
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.command = f"{procfile_web()} --log-level warning --no-access-log {extra_args}"

    def __enter__(self):
        if self.log_path:  # kept, appended to
            self.log = open(self.log_path, "a+")
        else:
            self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-web-", suffix=".log")
        self.process = subprocess.Popen(  # noqa: S603
            ["/bin/sh", "-c", self.command], cwd=ROOT, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        answered = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                url = f"http://127.0.0.1:{self.port}/accounts/login/"
                urllib.request.urlopen(url, timeout=2).read()
                answered += 1
            except urllib.error.HTTPError:
                answered += 1
            except OSError:
                answered = 0
            # Several workers: give the others time to be up too.
            expected = len(self.worker_pids()) >= (self.workers or 1)
            if answered >= 3 and expected:
                return
            time.sleep(0.3)
        self.log.seek(0)
        sys.stderr.write(self.log.read()[-4000:])
        raise RuntimeError(f"The web process did not start on port {self.port} (in use?)")

    def stop(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.log.close()

    def pids(self) -> list[int]:
        """Every process of the server: the shell, uvicorn's supervisor and its workers."""
        return [self.process.pid, *descendants(self.process.pid)]

    def worker_pids(self) -> list[int]:
        found = []
        for pid in self.pids():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            # uvicorn's workers are multiprocessing children ("spawn_main"; not its
            # resource tracker); a single worker is uvicorn itself.
            if b"spawn_main" in cmdline or (self.workers == 1 and b"uvicorn" in cmdline):
                found.append(pid)
        return found

    def cpu(self) -> float:
        return sum(process_cpu(pid) for pid in self.pids())


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core together."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


def percentiles(values) -> tuple[float, float, float]:
    """(p50, p99, max) of a list; NaNs when it is empty."""
    if not values:
        return float("nan"), float("nan"), float("nan")
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
