"""Issue 14: the Prefect API server a run starts dies with the run: killed (SIGKILL), stopped
(SIGTERM) or finished. Through the real CLI (`xxgk nightly` with no Prefect server
configured), against a local source that stalls the crawl until the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from govsite import Site
from test_crawl_limits import Hostile, drip

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture
def stalling(tmp_path):
    """A registry whose one source drips its list page a byte a second (for a minute)."""
    server = Hostile()
    server.routes["/robots.txt"] = lambda h: h.send_error(404)
    server.routes["/nb/index.html"] = drip
    reg = tmp_path / "sources.toml"
    reg.write_text(f"""
[[sources]]
slug = "stalling"
body = "迟缓区人民政府"
list_url = "{server.base}/nb/index.html"
allowed_domains = ["127.0.0.1"]
timeout = 30.0
deadline = 60.0
""", encoding="utf-8")
    yield reg
    server.stop()


@pytest.fixture
def own_env(tmp_path):
    """No Prefect server configured: the run starts its own. A fresh PREFECT_HOME tells this
    test's servers from any other on the machine."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, "PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING"}


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def servers_of(env: dict) -> list[psutil.Process]:
    """Live uvicorn processes serving the Prefect API started under this test's PREFECT_HOME
    (wherever they were reparented to)."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if "uvicorn" in cmd and "prefect.server.api.server:create_app" in cmd:
            try:
                if p.environ().get("PREFECT_HOME") == env["PREFECT_HOME"] and _alive(p):
                    found.append(p)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    return found


def started_nightly(reg: Path, wh: Path, env: dict) -> tuple[subprocess.Popen, psutil.Process]:
    """`xxgk nightly` running, and its API server once it answers (the crawl then stalls)."""
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "nightly", "-s", str(reg), "-w", str(wh)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        servers = [s for s in psutil.Process(proc.pid).children(recursive=True)
                   if s in servers_of(env)] if proc.poll() is None else []
        if servers:
            return proc, servers[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("no API server started within 180 s")


def gone_within(seconds: float, *procs: psutil.Process) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in procs):
            return True
        time.sleep(0.1)
    return False


def test_a_killed_nightly_takes_its_api_server_with_it(stalling, own_env, tmp_path):
    proc, server = started_nightly(stalling, tmp_path / "wh", own_env)
    time.sleep(1.0)  # mid-start or serving: the watchdog knows the server from its first moment
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert gone_within(10, server), f"API server {server.pid} still running 10 s after its run was killed"
    assert servers_of(own_env) == []


def test_a_terminated_nightly_stops_its_api_server_and_exits_143(stalling, own_env, tmp_path):
    proc, server = started_nightly(stalling, tmp_path / "wh", own_env)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "terminated" in stderr, stderr[-2000:]
    assert gone_within(5, server) and servers_of(own_env) == []
    assert "Error logging to API" not in stderr, stderr[-2000:]  # only xxgk speaks on the terminal


def test_a_finished_nightly_leaves_no_api_server(own_env, tmp_path):
    site = Site().start()
    try:
        reg = tmp_path / "sources.toml"
        reg.write_text(site.sources_toml(), encoding="utf-8")
        r = subprocess.run([sys.executable, "-m", "flows.cli", "nightly", "-s", str(reg), "-w", str(tmp_path / "wh")],
                           cwd=ROOT, env=own_env, capture_output=True, text=True, timeout=300)
    finally:
        site.stop()
    assert r.returncode == 0, r.stderr[-3000:]
    assert "facts loaded" in r.stdout
    assert gone_within(5, *servers_of(own_env)) and servers_of(own_env) == []
    assert "Error logging to API" not in r.stderr, r.stderr[-3000:]
