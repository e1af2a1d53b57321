"""The simulated greenhouse: weather, climate physics, cucumber crop, economics, virtual device."""
