"""The `serra` application: the command line and the Qt GUI; composes every other layer.

- `cli` and `cli_*`: `serra sim | device | poll | run | db | supply` (each command group imports
  its layers lazily, so `--help` and headless commands never load Qt).
- `gui`: the desktop app (PySide6 + pyqtgraph): overview, history, events, setpoints,
  actuators, what-if, supply and settings views, the work they hand to threads.
- `session`: the running greenhouse behind the GUI (virtual device or bus, control loop,
  database); `db_lock`: one writer per database; `paths`: default file locations.
- `whatif_run`, `replay_plot`, `run_status`, `pairs`: what-if seasons without Qt, the replay
  PNG, `serra run`'s status line, NAME=VALUE lists as typed.
"""
