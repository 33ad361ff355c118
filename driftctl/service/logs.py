"""Structured log lines for the service: text or one JSON object a line, with run id, workspace, step.

The run id and workspace come from context variables set around each reconcile, so the core's progress
messages (which know neither) are tagged with both. (I/O: stderr.)
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

run_id_var: ContextVar[str | None] = ContextVar("driftctl_run_id", default=None)
workspace_var: ContextVar[str | None] = ContextVar("driftctl_workspace", default=None)

log = logging.getLogger("driftctl.service")


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = getattr(record, "run_id", None) or run_id_var.get()
        record.workspace = getattr(record, "workspace", None) or workspace_var.get()
        record.step = getattr(record, "step", None) or "service"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "step": getattr(record, "step", None),
            "run_id": getattr(record, "run_id", None),
            "workspace": getattr(record, "workspace", None),
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps({k: v for k, v in doc.items() if v is not None}, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        where = " ".join(
            f"{k}={v}" for k in ("step", "workspace", "run_id") if (v := getattr(record, k, None)) is not None
        )
        stamp = self.formatTime(record, "%H:%M:%S")
        line = f"{stamp} {record.levelname.lower():7} {where} {record.getMessage()}"
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info).splitlines()[-1]
        return line


def setup(fmt: str = "text", level: int = logging.INFO) -> None:
    """Route ``driftctl.*`` loggers to stderr in ``fmt`` (``text`` or ``json``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_Context())
    for name, at in (("driftctl", level), ("apscheduler", logging.WARNING), ("uvicorn", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(at)
        logger.propagate = False


def progress(message: str) -> None:
    """The core's progress callback: one log line at step ``reconcile``."""
    log.info("%s", message, extra={"step": "reconcile"})
