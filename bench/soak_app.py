"""Soak: the desktop app for minutes on end, every view visited in turn; crash, memory, blocking.

Run: xvfb-run -a .venv/bin/python bench/soak_app.py --minutes 10     (a real X server)
     QT_QPA_PLATFORM=offscreen .venv/bin/python bench/soak_app.py --minutes 3

A child process runs `serra` (`app.cli.main([])`, exactly as the console script does) on its
embedded default at demo speed (60x: a plant minute per wall second), with the user's folders
replaced by a temporary HOME/XDG set, so a fresh temporary database and settings, and a first start
(the kernels compile in a child process, app.kernel_warmup). While it runs, the next view is shown
every 2 s (all nine, round and round): History shows the last day, week or month in turn, What-if
runs its three 115-day seasons every third visit. A 10 ms QTimer heartbeat on the GUI thread
measures how late it fires: the longest GUI-thread block. Every 5 s the child prints its resident
memory.

Printed: minutes run, peak RSS, RSS growth after the warm-up (the first minute: kernels, caches,
the first what-if run), the longest GUI-thread block after start-up (target < 50 ms; start-up is
until the end of the first 5-s window in which the loop ticked, and its worst block is printed on
its own line), errors in the app's log, and crash=no/yes (a child that dies, e.g. `Fatal Python
error: none_dealloc`, is a crash). The exit code is 1 on a crash or a memory growth beyond
`--max-growth-mb`. `--json` adds one JSON line. SERRA_SOAK_STACKS=FILE writes where the GUI
thread was while its heartbeat was overdue, and the collector's slow passes (a diagnosis aid).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEAT_MS = 10
VISIT_MS = 2000
SAMPLE_MS = 5000
BLOCK_TARGET_MS = 50.0
WARMUP_MIN = 1.0
MAX_GROWTH_MB = 60.0  # after warm-up, over the run (see the README's figures)
HISTORY_SPANS_S = (86400.0, 7 * 86400.0, 30 * 86400.0)


def _memory_mb() -> tuple[float, float]:
    """(resident now, peak resident) in MB, from /proc (Linux) or getrusage."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def _watch_gui_thread(state: dict, out: Path) -> None:
    """Sample the GUI thread's stack whenever its heartbeat is overdue; write the tallies to `out`.

    A diagnosis aid (SERRA_SOAK_STACKS=file): where the GUI thread was while it was blocked,
    together with the time spent in the garbage collector's passes.
    """
    import gc
    import threading
    import traceback

    gui = threading.get_ident()
    stacks: dict[str, int] = {}
    collections: list[tuple[int, float]] = []
    began = {"t": 0.0}

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            began["t"] = time.perf_counter()
        else:
            collections.append((info["generation"], (time.perf_counter() - began["t"]) * 1e3))

    def watch() -> None:
        while True:
            time.sleep(0.005)
            last = state["last"]
            if last is None or time.perf_counter() - last < (BEAT_MS + 30) / 1e3:
                continue
            frame = sys._current_frames().get(gui)
            if frame is not None:
                key = "".join(traceback.format_stack(frame)[-16:])
                stacks[key] = stacks.get(key, 0) + 1

    def write() -> None:
        slow = sorted((ms for _g, ms in collections if ms > 10), reverse=True)
        lines = [f"gc passes: {len(collections)}; over 10 ms: {[round(m) for m in slow[:20]]}"]
        for key, n in sorted(stacks.items(), key=lambda kv: -kv[1])[:15]:
            lines += [f"==== {n} samples (5 ms each)", key]
        out.write_text("\n".join(lines))

    import atexit

    gc.callbacks.append(on_gc)
    atexit.register(write)
    threading.Thread(target=watch, daemon=True).start()


def child(minutes: float, speed: float) -> int:
    """Run `serra` in this process with the visiting, heartbeat and sampling timers."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    state = {"t0": time.perf_counter(), "last": None, "worst": 0.0, "visits": 0, "errors": 0,
             "steady": False}  # fmt: skip
    by_view: dict[str, list[float]] = {}  # view shown -> lateness of each late heartbeat
    if os.environ.get("SERRA_SOAK_STACKS"):
        _watch_gui_thread(state, Path(os.environ["SERRA_SOAK_STACKS"]))

    def emit(kind: str, **fields) -> None:
        minutes_run = (time.perf_counter() - state["t0"]) / 60.0
        rss, peak = _memory_mb()
        print(json.dumps({"kind": kind, "min": minutes_run, "rss_mb": rss, "peak_mb": peak,
                          **fields}), flush=True)  # fmt: skip

    def beat() -> None:
        now = time.perf_counter()
        if state["last"] is not None:
            late = (now - state["last"]) * 1e3 - BEAT_MS
            state["worst"] = max(state["worst"], late)
            w = window()
            if late > BLOCK_TARGET_MS and w is not None and state["steady"]:
                by_view.setdefault(w.tabs.tabText(w.tabs.currentIndex()), []).append(late)
        state["last"] = now

    def window():
        from app.gui.main_window import MainWindow

        found = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
        return found[0] if found else None

    def visit() -> None:
        w = window()
        if w is None or not w.session.started:
            return
        k = (w.tabs.currentIndex() + 1) % w.tabs.count()
        w.tabs.setCurrentIndex(k)
        view = w.tabs.widget(k)
        state["visits"] += 1
        rounds = state["visits"] // w.tabs.count()
        if view is w.history:
            w.history.show_last(HISTORY_SPANS_S[rounds % len(HISTORY_SPANS_S)])
        elif view is w.whatif and rounds % 3 == 0:
            w.whatif.run()

    def sample() -> None:
        w = window()
        ticks = w.session.snapshot().ticks if w is not None and w.session.started else 0
        emit("sample", block_ms=state["worst"], ticks=ticks, visits=state["visits"])
        state["worst"] = 0.0
        state["steady"] = ticks > 0  # start-up ends with the first window the loop ticked in

    def started() -> None:
        w = window()
        if w is None:
            QTimer.singleShot(50, started)
            return
        if speed != w.config.speed:
            w.speed.setCurrentIndex(w.speed.findData(speed))
        hook = sys.excepthook

        def counting_hook(*exc_info) -> None:
            state["errors"] += 1
            hook(*exc_info)

        sys.excepthook = counting_hook
        timers = []
        for ms, slot in ((BEAT_MS, beat), (VISIT_MS, visit), (SAMPLE_MS, sample)):
            timer = QTimer(w)
            timer.setInterval(ms)
            timer.timeout.connect(slot)
            timer.start()
            timers.append(timer)

        def finish() -> None:
            timers[1].stop()  # no more visits
            if w.whatif.running:  # let the seasons finish, as a grower would before quitting
                QTimer.singleShot(200, finish)
                return
            sample()
            w.close()

        QTimer.singleShot(int(minutes * 60_000), finish)

    QTimer.singleShot(0, started)
    from app.cli import main

    code = main([])
    w = window()
    late = {v.replace("&", ""): [len(t), round(max(t))] for v, t in by_view.items()}
    emit("end", code=code, stopped=bool(w and w.session.stopped), start_error=w and w.start_error,
         uncaught=state["errors"], visits=state["visits"], late_by_view=late)  # fmt: skip
    return code


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif env.get("QT_QPA_PLATFORM") == "offscreen" and env.get("DISPLAY"):
        del env["QT_QPA_PLATFORM"]  # a real X server is there (xvfb-run): use it
    env["HOME"] = str(home)
    env.pop("SERRA_LOG_DIR", None)  # the app's log in the user log dir under `home`, read below
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        env[var] = str(home / sub)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def soak(minutes: float, speed: float, max_growth_mb: float) -> dict:
    """Run the child for `minutes`; return the figures (see the module doc)."""
    with tempfile.TemporaryDirectory(prefix="serra-soak-") as tmp:
        home = Path(tmp)
        env = _env(home)
        cmd = [sys.executable, __file__, "--child", "--minutes", str(minutes),
               "--speed", str(speed)]  # fmt: skip
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        out, err = proc.communicate(timeout=minutes * 60 + 600)
        log = "".join(p.read_text(errors="replace") for p in home.rglob("serra-gui.log"))
        logged = log.count("Traceback")
    rows = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    samples = [r for r in rows if r["kind"] == "sample"]
    end = next((r for r in rows if r["kind"] == "end"), None)
    warm = min(WARMUP_MIN, minutes / 3)
    after = [s for s in samples if s["min"] >= warm and s["ticks"] > 0]
    first = next((i for i, s in enumerate(samples) if s["ticks"] > 0), len(samples))
    startup, ticking = samples[: first + 1], samples[first + 1 :]  # the first ticking: start-up
    crash = proc.returncode != 0 or end is None or end["code"] != 0
    figures = {
        "minutes": samples[-1]["min"] if samples else 0.0,
        "python": sys.version.split()[0],
        "pyside": _pyside_version(),
        "platform": env.get("QT_QPA_PLATFORM") or "xcb (X server)",
        "peak_rss_mb": max((s["peak_mb"] for s in samples), default=0.0),
        "rss_after_warmup_mb": after[0]["rss_mb"] if after else None,
        "rss_end_mb": after[-1]["rss_mb"] if after else None,
        "growth_mb": after[-1]["rss_mb"] - after[0]["rss_mb"] if after else None,
        "longest_block_ms": max((s["block_ms"] for s in ticking), default=None),
        "blocks_over_target": sum(s["block_ms"] > BLOCK_TARGET_MS for s in ticking),
        "startup_s": startup[-1]["min"] * 60 if startup else None,
        "startup_block_ms": max((s["block_ms"] for s in startup), default=None),
        "samples": len(ticking),
        "ticks": samples[-1]["ticks"] if samples else 0,
        "ticks_after_warmup": after[0]["ticks"] if after else None,
        "visits": end["visits"] if end else (samples[-1]["visits"] if samples else 0),
        "errors": (end["uncaught"] if end else 0) + logged,
        "stopped_cleanly": bool(end and end["stopped"]),
        "late_by_view": end.get("late_by_view", {}) if end else {},
        "crash": crash,
        "exit": proc.returncode,
        "stderr_tail": err.strip()[-1500:] if crash else "",
        "log_tail": log.strip()[-1500:],
    }
    figures["memory_ok"] = (
        figures["growth_mb"] is not None and figures["growth_mb"] <= max_growth_mb
    )
    return figures


def _pyside_version() -> str:
    try:
        import PySide6

        return PySide6.__version__
    except ImportError:
        return "?"


def report(f: dict, max_growth_mb: float) -> None:
    """Print the figures, one a line."""
    print(f"Python {f['python']}, PySide6 {f['pyside']}, Qt platform {f['platform']}")
    print(f"minutes run: {f['minutes']:.1f} ({f['ticks']} control ticks, {f['visits']} visits)")
    print(f"peak RSS: {f['peak_rss_mb']:.0f} MB")
    if f["growth_mb"] is not None:
        print(
            f"RSS growth after warm-up: {f['growth_mb']:+.1f} MB "
            f"({f['rss_after_warmup_mb']:.0f} -> {f['rss_end_mb']:.0f} MB; "
            f"bound {max_growth_mb:g} MB: {'met' if f['memory_ok'] else 'MISSED'})"
        )
    if f["longest_block_ms"] is not None:
        print(
            f"longest GUI-thread block after start-up: {f['longest_block_ms']:.0f} ms (target < "
            f"{BLOCK_TARGET_MS:g} ms: {'met' if f['blocks_over_target'] == 0 else 'MISSED'}, "
            f"{f['blocks_over_target']} of {f['samples']} 5-s windows over)"
        )
    if f["startup_block_ms"] is not None:
        print(
            f"start-up (window up, simulator starting, first ticks; {f['startup_s']:.0f} s): "
            f"longest GUI-thread block {f['startup_block_ms']:.0f} ms"
        )
    print(
        f"errors logged: {f['errors']}; stopped cleanly: {'yes' if f['stopped_cleanly'] else 'NO'}"
    )
    if f["errors"]:
        print(f"the app's log ends: {f['log_tail']}")
    if f["late_by_view"]:
        where = ", ".join(f"{v} {n}x (worst {w} ms)" for v, (n, w) in f["late_by_view"].items())
        print(f"after start-up, heartbeats later than {BLOCK_TARGET_MS:g} ms, by view: {where}")
    print(f"crash={'yes' if f['crash'] else 'no'}")
    if f["crash"]:
        print(f"exit {f['exit']}: {f['stderr_tail']}")


def main() -> int:
    """Parse the options; run the soak (or, with --child, the app itself)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    parser.add_argument("--speed", type=float, default=60.0, help="demo speed (default 60x)")
    parser.add_argument(
        "--max-growth-mb", type=float, default=MAX_GROWTH_MB,
        help=f"RSS growth allowed after warm-up (default {MAX_GROWTH_MB:g})",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.minutes, args.speed)
    figures = soak(args.minutes, args.speed, args.max_growth_mb)
    report(figures, args.max_growth_mb)
    if args.json:
        print(json.dumps(figures))
    return 1 if figures["crash"] or not figures["memory_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
