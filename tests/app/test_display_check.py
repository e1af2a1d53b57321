"""`serra` says in one line what the window lacks (display, X11 libraries, X server) before Qt
starts, and README.md and .ci/run name the same Debian packages as the check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.gui.display import XCB_LIBRARIES, display_problem, qt_platform

ROOT = Path(__file__).resolve().parents[2]
NO_DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")


def _serra(env_changes: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in NO_DISPLAY_VARS}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "-m", "app"], capture_output=True, text=True, timeout=60, env=env
    )


def _free_display() -> str:
    n = 90
    while Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
        n += 1
    return f":{n}"


def test_serra_without_a_display_says_so_in_one_line_and_exits_2():
    proc = _serra({})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # not Qt's plugin dump
    assert lines[0].startswith("serra: error: no display to open the window on")
    assert "DISPLAY and WAYLAND_DISPLAY are unset" in lines[0]
    assert "`serra sim run`" in lines[0] and "need no display" in lines[0]


def test_serra_with_no_x_server_at_display_says_so_in_one_line_and_exits_2():
    if display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, XCB_LIBRARIES).startswith(
        "the window needs X11 libraries"
    ):
        pytest.skip("this machine lacks the X11 libraries (.ci/run installs them)")
    display = _free_display()
    proc = _serra({"DISPLAY": display})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"serra: error: no X server answers at DISPLAY={display}: check that the desktop "
        "session is running and DISPLAY names it; `serra sim run`, `serra run` and the other "
        "commands need no display"
    )


def test_missing_x11_libraries_are_named_with_the_debian_packages_to_install():
    libraries = {
        "libxcb.so.1": "libxcb1",
        "libxcb-serra-missing.so.9": "libxcb-serra-missing9",
        "libxcb-serra-absent.so.4": "libxcb-serra-absent4",
    }
    line = display_problem({"DISPLAY": ":0"}, libraries)
    assert line is not None and "\n" not in line
    assert "(libxcb-serra-missing.so.9, libxcb-serra-absent.so.4)" in line
    assert "`sudo apt-get install libxcb-serra-missing9 libxcb-serra-absent4`" in line
    assert "libxcb1 " not in line  # present, so not asked for


@pytest.mark.parametrize(
    ("env", "platform"),
    [
        ({"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, "wayland"),
        ({"QT_QPA_PLATFORM": "xcb:nograb"}, "xcb"),
        ({"DISPLAY": ":0"}, "xcb"),
        ({"WAYLAND_DISPLAY": "wl-0"}, "wayland"),
        ({"WAYLAND_DISPLAY": "wl-0", "DISPLAY": ":0"}, "xcb"),  # X11 session, Wayland too
        ({"WAYLAND_DISPLAY": "wl-0", "DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, "wayland"),
    ],
)  # fmt: skip
def test_the_platform_checked_is_the_one_qt_would_use(env, platform):
    if not sys.platform.startswith("linux") and "QT_QPA_PLATFORM" not in env:
        platform = ""
    assert qt_platform(env) == platform


def test_offscreen_and_wayland_need_no_x11_check():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, {"libnothing.so.9": "x"}) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, {"libnothing.so.9": "x"}) is None


def _words(line: str) -> set[str]:
    return set(re.findall(r"\blib[a-z0-9.+-]+", line))


def test_readme_and_ci_name_the_same_x11_packages_as_the_check():
    packages = set(XCB_LIBRARIES.values())
    ci = (ROOT / ".ci" / "run").read_text()
    (ci_line,) = [ln for ln in ci.splitlines() if ln.startswith("xcb_libs=")]
    assert _words(ci_line) == packages
    assert "$xcb_libs" in ci  # and installs them
    readme = (ROOT / "README.md").read_text()
    (readme_line,) = [ln for ln in readme.splitlines() if "apt-get install libxcb1" in ln]
    assert _words(readme_line) == packages
