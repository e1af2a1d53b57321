"""Can the desktop window open here? Checked before Qt starts, so a missing display or missing X11
libraries give one line saying what to do instead of Qt's plugin dump and an abort.

Imports no Qt. `XCB_LIBRARIES` is the one list of Debian packages the X11 (xcb) window needs:
README.md and .ci/run name the same packages (tests/app/test_display_check.py checks they agree).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping

# shared library the Qt xcb platform plugin loads -> the Debian/Ubuntu package that ships it
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}

NO_DISPLAY_NEEDED = "`serra sim run`, `serra run` and the other commands need no display"


def qt_platform(env: Mapping[str, str] | None = None) -> str:
    """The Qt platform plugin the window would use: QT_QPA_PLATFORM's first choice, else what Qt
    picks on this system ("xcb" for an X11 session, "wayland", or "" off Linux)."""
    env = os.environ if env is None else env
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if not sys.platform.startswith("linux"):
        return ""
    if env.get("WAYLAND_DISPLAY") and (
        env.get("XDG_SESSION_TYPE") == "wayland" or not env.get("DISPLAY")
    ):
        return "wayland"
    return "xcb"


def missing_libraries(libraries: dict[str, str] = XCB_LIBRARIES) -> dict[str, str]:
    """The libraries of `libraries` (soname -> package) that this process cannot load."""
    missing = {}
    for soname, package in libraries.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing[soname] = package
    return missing


def x_server_reachable(display: str) -> bool:
    """Whether an X server answers at `display` (libxcb's own connect, as Qt does)."""
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        return xcb.xcb_connection_has_error(conn) == 0
    finally:
        xcb.xcb_disconnect(conn)


def display_problem(
    env: Mapping[str, str] | None = None, libraries: dict[str, str] = XCB_LIBRARIES
) -> str | None:
    """One line saying why the window cannot open here and what to do, or None when it can."""
    env = os.environ if env is None else env
    platform = qt_platform(env)
    if platform == "wayland" and not env.get("WAYLAND_DISPLAY"):
        return (
            "no Wayland display to open the window on (WAYLAND_DISPLAY is unset): start `serra` "
            f"in a desktop session; {NO_DISPLAY_NEEDED}"
        )
    if platform != "xcb":
        return None  # offscreen, Wayland, Windows, macOS: Qt has what it needs
    if not env.get("DISPLAY"):
        return (
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset): start "
            f"`serra` in a desktop session or over `ssh -X`; {NO_DISPLAY_NEEDED}"
        )
    missing = missing_libraries(libraries)
    if missing:
        return (
            f"the window needs X11 libraries that are missing ({', '.join(missing)}): install "
            f"them with `sudo apt-get install {' '.join(missing.values())}` (Debian, Ubuntu); "
            f"{NO_DISPLAY_NEEDED}"
        )
    if not x_server_reachable(env["DISPLAY"]):
        return (
            f"no X server answers at DISPLAY={env['DISPLAY']}: check that the desktop session "
            f"is running and DISPLAY names it; {NO_DISPLAY_NEEDED}"
        )
    return None
