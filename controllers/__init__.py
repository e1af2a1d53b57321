"""Climate computer, setpoint strategies, the fast season runner (and later the real-time loop)."""
