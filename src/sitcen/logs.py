"""How the node's log lines look: text for people, or one JSON object a line for a collector,
each line written while serving a request carrying that request's id.

Knows no database and no HTTP: the API sets :data:`request_id` for the time of
a request (``api/monitoring.py``), and every line logged meanwhile, by our code
or by uvicorn's access log, in the request's task or in the thread a route runs
in (both copy the context), carries it.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]

#: The id of the request being served, where one is.
request_id: ContextVar[str | None] = ContextVar("sitcen_request_id", default=None)

#: An incoming X-Request-ID is kept when it looks like an id (a UUID, a trace id, a short
#: token), never when it could smuggle a line break or a long text into the logs.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def sane_request_id(given: str | None) -> str:
    """``given`` when it is a sane request id, else a new one."""
    if given is not None and _SANE_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, process, the request id when
    there is one, the exception when there is one; an access-log line's parts as fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        rid = request_id.get()
        if rid is not None:
            line["request_id"] = rid
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(
                record.args) == 5:
            # uvicorn's access line: client, method, path, HTTP version, status.
            client, method, path, _version, status = record.args
            line.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of the node's own lines in ``log_format``."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def log_to_stderr(log_format: LogFormat = "text") -> None:
    """Show the node's own messages (batches received, refused, links failing) on stderr."""
    logger = logging.getLogger("sitcen")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter(log_format))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def uvicorn_log_config(log_format: LogFormat) -> dict[str, Any] | None:
    """uvicorn's logging configuration for ``log_format``; None: uvicorn's own (text).

    As uvicorn's default, the access log goes to stdout and the rest to stderr;
    each worker process applies it when it starts.
    """
    if log_format != "json":
        return None
    stream = {"class": "logging.StreamHandler", "formatter": "json"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "sitcen.logs.JsonFormatter"}},
        "handlers": {"default": {**stream, "stream": "ext://sys.stderr"},
                     "access": {**stream, "stream": "ext://sys.stdout"}},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
