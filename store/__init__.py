"""Serra's record of the farm on SQLite (through sqlite-utils).

- `db`: open a database (WAL, busy timeout, durable commits) and run its migrations.
- `migrations`: the versioned schema; one module per version.
- `channels`: canonical signal names -> columns of the wide `ticks` table.
- `timeseries`: write ticks, read raw ranges, bucketed min/mean/max, latest values.
- `rollups`: 5-min and hourly rollups, retention of raw data.
- `events`: the append-only event log (alarms, setpoint changes, overrides, ...).
- `recorder`: `SqliteRecorder`, the control loop's recorder.
- `csvio`, `backup`: climate.csv export/import and online backup.

`store` imports nothing of the project; `app` wires it to the control loop.
"""
