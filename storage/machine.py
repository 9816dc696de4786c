"""What the machines that run jobs have, as their workers last reported it: how many
GPUs. One small JSON file per host under AGEREC_HOME/machines/ (the home every worker
shares), so the dashboard can pick fitting defaults (the `cpu` preset without a GPU)
without importing TensorFlow."""
from __future__ import annotations

import json
import logging
import os
import re
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def machines_dir(home: str | Path) -> Path:
    return Path(home) / "machines"


def record_machine(home: str | Path, gpus: int, *, host: str | None = None,
                   when: datetime | None = None) -> Path:
    """Record that a worker on `host` (default: this one) sees `gpus` GPUs."""
    host = host or socket.gethostname()
    when = when or datetime.now(timezone.utc)
    folder = machines_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', host) or 'host'}.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"host": host, "gpus": int(gpus), "reported_at": when.isoformat()}))
    os.replace(tmp, path)  # a reader never sees half a file
    return path


def machines(home: str | Path) -> list[dict[str, Any]]:
    """Every worker machine's last report, newest first."""
    out = []
    for path in sorted(machines_dir(home).glob("*.json")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            log.warning("machine report %s not read: %s", path, exc)
    return sorted(out, key=lambda m: m.get("reported_at", ""), reverse=True)


def gpu_present(home: str | Path) -> bool | None:
    """Whether some worker machine reported a GPU; None when no worker reported yet."""
    found = machines(home)
    return None if not found else any(m.get("gpus", 0) > 0 for m in found)
