"""The `serra` command line and (later) the Qt GUI; composes every other layer."""
