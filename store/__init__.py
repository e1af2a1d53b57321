"""SQLite storage: schema, time series, events, exports. Arrives with the store issue."""
