"""The plant's vocabulary (signals, units) and serial I/O."""
