"""Deciding what the greenhouse does, in real time and in simulated seasons.

- `climate_computer`, `reasons`: setpoints + measurements -> actuator commands, and why an
  actuator is held where it is.
- `strategy`, `grower_rules`, `day_periods`, `setpoints`, `schedule_csv`, `actuator_replay`,
  `decisions`: setpoint strategies (grower rules, `--setpoints`/`--actuators` replay files) and
  their decisions in a grower's words.
- `loop`, `clock`, `safety`, `alarms`, `overrides`, `notify`, `records`: the real-time control
  loop and what it hands to its recorder protocol (implemented by `store`, wired by `app`).
- `season`, `season_files`, `sweep`: the fast season runner (many greenhouses, no serial link),
  its climate.csv/crop.csv/summary.json, and parameter sweeps.
- `replay`, `replay_log`, `replay_metrics`: logged compartments replayed through the simulator.

`controllers` imports only `drivers`, `sim` and `models`.
"""
