"""Serra's record of the farm on SQLite (through sqlite-utils).

- `db`: open a database (WAL, busy timeout, durable commits), run its migrations, and keep the
  channel registry (canonical signal names -> columns of the wide `ticks` table).
- `migrations`: the versioned schema; one module per version (core, supply, wide rollups, ...).
- `timeseries`: write ticks, read raw ranges, bucketed min/mean/max, latest values.
- `rollups`: 5-min and hourly rollups, retention of raw data.
- `events`: the append-only event log (alarms, setpoint changes, overrides, ...).
- `recorder`: `SqliteRecorder`, the control loop's recorder.
- `csvio`, `backup`: climate.csv export/import and online backup.
- `errors`: `StoreError`, the root of the store's exceptions.

`store` imports nothing of the project; `app` wires it to the control loop.
"""
