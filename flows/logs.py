"""Where library logs go: only xxgk speaks on the terminal.

pdfminer's warnings (`Could not get FontBBox from font descriptor…`, dozens per
browser-printed PDF), Prefect's logs and its temporary API server's (`Failed to send
telemetry`, `database is locked` tracebacks) are written to a log file, not between the
user's results; with `--debug` they stay on the terminal. The reader process
(flows/sandbox.py) and Prefect's API server subprocess inherit the choice through the
environment (XXGK_LOG_FILE, PREFECT_LOGGING_SETTINGS_PATH).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOG_ENV = "XXGK_LOG_FILE"
"""The log file library logs go to; unset: the terminal (--debug)."""
LIBRARIES = ("pdfminer", "pdfplumber", "PIL", "distributed", "asyncio", "httpx", "fontTools")

_PREFECT_YAML = """\
version: 1
disable_existing_loggers: False
formatters:
  standard:
    format: "%(asctime)s | %(process)d | %(levelname)-7s | %(name)s - %(message)s"
handlers:
  file:
    level: 0
    class: logging.FileHandler
    formatter: standard
    filename: {path}
    encoding: utf-8
  api:
    level: 0
    class: prefect.logging.handlers.APILogHandler
  worker_api:
    level: 0
    class: prefect.logging.handlers.WorkerAPILogHandler
loggers:
  prefect:
    level: "${{PREFECT_LOGGING_LEVEL}}"
  prefect.extra:
    level: "${{PREFECT_LOGGING_LEVEL}}"
    handlers: [api]
    propagate: false
  prefect.flow_runs:
    level: NOTSET
    handlers: [api]
  prefect.task_runs:
    level: NOTSET
    handlers: [api]
  prefect.workers:
    level: NOTSET
    handlers: [worker_api]
  prefect.server:
    level: "${{PREFECT_SERVER_LOGGING_LEVEL}}"
  prefect._internal:
    level: "${{PREFECT_INTERNAL_LOGGING_LEVEL}}"
    propagate: false
    handlers: [file]
  uvicorn:
    level: "${{PREFECT_SERVER_LOGGING_LEVEL}}"
    handlers: [file]
    propagate: false
  fastapi:
    level: "${{PREFECT_SERVER_LOGGING_LEVEL}}"
root:
  level: WARNING
  handlers: [file]
"""


def default_log_file() -> Path:
    """`$XXGK_LOG_FILE`, else xxgk.log in Prefect's home (`$PREFECT_HOME`, else ~/.prefect)."""
    if os.environ.get(LOG_ENV):
        return Path(os.environ[LOG_ENV])
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect") / "xxgk.log"


def quiet_terminal(debug: bool) -> Path | None:
    """Send library and Prefect logs to the log file (returned), or leave them on the
    terminal when `debug`. Sets the environment the subprocesses read; Prefect telemetry
    off unless the user turned it on."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if debug:
        os.environ.pop(LOG_ENV, None)
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
        return None
    path = default_log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        return None  # an unwritable home: the terminal it is
    os.environ[LOG_ENV] = str(path)
    # a log handler's own failure (Prefect's "--- Error logging to API ---" when the run's
    # API server stopped before its last logs were sent) is not printed on the terminal
    logging.raiseExceptions = False
    if not os.environ.get("PREFECT_LOGGING_SETTINGS_PATH"):
        yml = path.with_name("xxgk-prefect-logging.yml")
        text = _PREFECT_YAML.format(path=str(path).replace('"', '\\"'))
        if not yml.exists() or yml.read_text(encoding="utf-8") != text:
            yml.write_text(text, encoding="utf-8")
        os.environ["PREFECT_LOGGING_SETTINGS_PATH"] = str(yml)
    route_python_logs()
    return path


_ROUTED: set[str] = set()


def route_python_logs() -> None:
    """In this process: warnings of the libraries go to $XXGK_LOG_FILE (if set), not to
    the terminal (Python's last-resort handler prints them to stderr)."""
    path = os.environ.get(LOG_ENV)
    if not path or path in _ROUTED:
        return
    _ROUTED.add(path)
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s | %(process)d | %(levelname)-7s | %(name)s - %(message)s"))
    for name in LIBRARIES:
        lg = logging.getLogger(name)
        lg.addHandler(handler)
        lg.propagate = False
