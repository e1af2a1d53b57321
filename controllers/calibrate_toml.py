"""The fitted greenhouse configuration as a `--config` TOML, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from sim.config import PARAM_NAMES, GreenhouseConfig, load_config


def config_toml(
    config: GreenhouseConfig,
    fitted: Mapping[str, float],
    notes: Mapping[str, str],
    header: Sequence[str],
) -> str:
    """TOML text of every value of `config` that differs from the shipped defaults, plus the
    `fitted` keys (commented with `notes[name]`), under `header` comment lines.

    Floats are written with `repr`, so loading the file gives back exactly these values.
    """
    shipped = load_config()
    lines = [f"# {h}" for h in header]
    site = {
        "name": (config.site_name, shipped.site_name),
        "latitude_deg": (config.latitude_deg, shipped.latitude_deg),
        "longitude_deg": (config.longitude_deg, shipped.longitude_deg),
        "timezone": (config.timezone, shipped.timezone),
    }
    if any(mine != default for mine, default in site.values()):
        lines += ["", "[site]"]
        for key, (mine, _) in site.items():
            lines.append(f"{key} = {json.dumps(mine) if isinstance(mine, str) else repr(mine)}")
    section = None
    for name in PARAM_NAMES:
        value = fitted.get(name, config[name])
        if name not in fitted and value == shipped[name]:
            continue
        sec, key = name.split(".", 1)
        if sec != section:
            lines += ["", f"[{sec}]"]
            section = sec
        comment = f"  # {notes[name]}" if name in notes else ""
        lines.append(f"{key} = {float(value)!r}{comment}")
    return "\n".join(lines) + "\n"


def write_atomic(path: str | Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and a rename, so a
    reader sees the old file or the new one, never half of one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
