"""Where Serra keeps its files by default: one database for the GUI and every command."""

from __future__ import annotations

from pathlib import Path


def default_db_path() -> Path:
    """serra.db in the user data dir (platformdirs), the folder created if missing."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("serra", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "serra.db"
