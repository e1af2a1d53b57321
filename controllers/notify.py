"""Notification hooks for alarms: run a configured command, or a desktop notification.

A hook is any callable taking an `Alarm`. `CommandNotifier` starts a shell command with the alarm
in environment variables (never pasted into the command line, so a message cannot inject shell
code) and does not wait for it, so a slow mailer never delays a control tick.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from controllers.alarms import Alarm


class CommandNotifier:
    """Runs `command` through the shell for each alarm raise/clear.

    The command sees SERRA_ALARM_KEY, SERRA_ALARM_STATE ("raised"/"cleared") and
    SERRA_ALARM_MESSAGE, e.g. `mail -s "serra: $SERRA_ALARM_MESSAGE" grower@example.org </dev/null`.
    """

    def __init__(self, command: str) -> None:
        if not command.strip():
            raise ValueError("notify command is empty; give a shell command to run per alarm")
        self.command = command
        self._running: list[subprocess.Popen] = []

    def __call__(self, alarm: Alarm) -> None:
        """Start the command for `alarm` (reaping earlier ones that finished)."""
        self._running = [p for p in self._running if p.poll() is None]
        env = {
            **os.environ,
            "SERRA_ALARM_KEY": alarm.key,
            "SERRA_ALARM_STATE": alarm.state,
            "SERRA_ALARM_MESSAGE": alarm.message,
        }
        self._running.append(
            subprocess.Popen(  # shell=True: the grower configures this command on purpose
                self.command,
                shell=True,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def wait(self, timeout_s: float = 5.0) -> None:
        """Wait for the started commands (for tests and a clean exit)."""
        for p in self._running:
            p.wait(timeout_s)
        self._running = []


def desktop_notifier() -> CommandNotifier | None:
    """A notifier using `notify-send` (freedesktop), or None if it is not installed."""
    if shutil.which("notify-send") is None:
        return None
    return CommandNotifier('notify-send "Serra alarm ($SERRA_ALARM_STATE)" "$SERRA_ALARM_MESSAGE"')
