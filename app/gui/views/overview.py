"""Overview: live tiles (inside, outside, actuators, alarms, crop) and 24 h trends."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.gui.common import (
    SiteDateAxis,
    Tile,
    colour,
    fmt_time,
    fmt_value,
    legend_html,
    style_plot,
)
from app.gui.labels import channel_tooltip, channel_words

TREND_S = 24 * 3600.0
INSIDE = (
    ("tair_c", "Air temperature", "greenhouse air temperature at crop height"),
    ("rh_pct", "Relative humidity", "greenhouse relative humidity"),
    ("co2_ppm", "CO₂", "greenhouse CO₂ concentration"),
    ("par_umol_m2_s", "PAR", "photosynthetically active light above the canopy"),
    ("pipe_c", "Rail pipe", "heating rail water temperature"),
    ("pipe_grow_c", "Grow pipe", "grow pipe water temperature"),
)
OUTSIDE = (
    ("tout_c", "Outside temperature", "outside air temperature"),
    ("rhout_pct", "Outside humidity", "outside relative humidity"),
    ("iglob_w_m2", "Global radiation", "outside global radiation"),
    ("wind_m_s", "Wind", "outside wind speed"),
)
ACTUATOR_TILES = (
    ("vent_lee_pct", "Lee vents"),
    ("vent_wind_pct", "Wind vents"),
    ("screen_energy_pct", "Energy screen"),
    ("screen_blackout_pct", "Blackout screen"),
    ("lamps_pct", "Lamps"),
    ("co2_valve_pct", "CO₂ valve"),
    ("pipe_sp_c", "Rail pipe setpoint"),
)
TRENDS = (
    ("Temperature (°C)", ("tair_c", "tout_c", "sp:heat_c")),
    ("Humidity (%) and CO₂ (ppm/10)", ("rh_pct", "co2_ppm/10")),
    ("Vents and screens (%)", ("vent_lee_pct", "screen_energy_pct", "lamps_pct")),
)


def trend_label(name: str) -> str:
    """Legend words of a trend curve ("sp:heat_c" is a setpoint, "co2_ppm/10" is scaled)."""
    if name.startswith("sp:"):
        return channel_words("sp_" + name[3:])
    if name.endswith("/10"):
        return channel_words(name[:-3]) + " ÷ 10"
    return channel_words(name)


class OverviewView(QWidget):
    """Live tiles and 24 h trend plots; fed by `show_snapshot` from the main window's timer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles: dict[str, Tile] = {}
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        outer.addLayout(top)
        top.addWidget(self._group("Inside", INSIDE, cols=3))
        top.addWidget(self._group("Outside", OUTSIDE, cols=2))
        row2 = QHBoxLayout()
        outer.addLayout(row2)
        row2.addWidget(
            self._group(
                "Actuators (position read back)", [(n, c, "") for n, c in ACTUATOR_TILES], cols=4
            )
        )
        status = QGroupBox("Alarms and crop")
        grid = QGridLayout(status)
        # two rows like the actuator tiles beside them: three stacked tiles were squeezed until
        # their values were cut off in a window of ordinary size
        for key, cap, tip, cell_at in (
            ("alarms", "Active alarms", "alarms raised and not yet cleared", (0, 0)),
            ("plant_time", "Greenhouse time", "site-local time of the last control tick", (0, 1)),
            ("crop", "Crop (simulated)", "fruit load, leaf area of the simulated crop", (1, 0)),
        ):
            tile = Tile(cap, tip)
            self.tiles[key] = tile
            grid.addWidget(tile, *cell_at, 1, 2 if key == "crop" else 1)
        row2.addWidget(status)
        self.history: dict[str, deque] = {}
        self.plots: list[tuple[pg.PlotWidget, dict[str, pg.PlotDataItem]]] = []
        plots_row = QHBoxLayout()
        outer.addLayout(plots_row, stretch=1)
        self.legends: list[QLabel] = []
        self.waiting: list[pg.TextItem] = []
        for title, names in TRENDS:
            box = QWidget()
            bv = QVBoxLayout(box)
            bv.setContentsMargins(0, 0, 0, 0)
            bv.setSpacing(2)
            heading = QLabel(f"<b>{title} – last 24 h</b>")
            legend = QLabel(
                legend_html(
                    [(colour(i), trend_label(n), n.startswith("sp:")) for i, n in enumerate(names)]
                )
            )
            legend.setWordWrap(True)
            legend.setAccessibleName(f"legend of {title}")
            self.legends.append(legend)
            plot = pg.PlotWidget(axisItems={"bottom": SiteDateAxis()})
            plot.setMinimumHeight(160)
            style_plot(plot)
            curves = {}
            for i, name in enumerate(names):
                pen = pg.mkPen(
                    colour(i),
                    width=2 if name.startswith("sp:") else 1,
                    style=pg.QtCore.Qt.PenStyle.DashLine
                    if name.startswith("sp:")
                    else pg.QtCore.Qt.PenStyle.SolidLine,
                )
                curves[name] = plot.plot([], [], pen=pen)
                self.history.setdefault(name, deque())
            # until the first tick there is no time to put on the axes: say so instead
            waiting = pg.TextItem("waiting for data…", anchor=(0.5, 0.5))
            waiting.setColor(plot.getPlotItem().getAxis("left").textPen().color())
            plot.addItem(waiting, ignoreBounds=True)
            waiting.setPos(0.5, 0.5)
            for axis in ("left", "bottom"):
                plot.getPlotItem().getAxis(axis).setStyle(showValues=False)
            self.waiting.append(waiting)
            self.plots.append((plot, curves))
            bv.addWidget(heading)
            bv.addWidget(legend)
            bv.addWidget(plot, stretch=1)
            plots_row.addWidget(box)

    def _group(self, title: str, items, cols: int) -> QGroupBox:
        box = QGroupBox(title)
        grid = QGridLayout(box)
        for i, (name, caption, tip) in enumerate(items):
            tile = Tile(caption, f"{tip} ({name})" if tip else channel_tooltip(name))
            self.tiles[name] = tile
            grid.addWidget(tile, i // cols, i % cols)
        return box

    def show_snapshot(self, snap, reasons: dict[str, str] | None = None) -> None:
        """Update tiles from a session snapshot; `reasons` says why a rule holds an actuator."""
        reasons = reasons or {}
        rec = snap.record
        alarms = snap.alarms
        unacked = [a for a in alarms if a.state == "raised"]
        self.tiles["alarms"].set(
            str(len(alarms)),
            f"{len(unacked)} not acknowledged" if alarms else "all clear",
            "#d1242f" if unacked else ("#bf8700" if alarms else "#1a7f37"),
        )
        if snap.crop:
            c = snap.crop
            kg = c.get("harvest_a_kg_m2", 0.0) + c.get("harvest_b_kg_m2", 0.0)
            self.tiles["crop"].set(
                f"{kg:.2f} kg/m² harvested",
                f"LAI {c.get('lai', math.nan):.2f} · 24 h mean {c.get('t24_c', math.nan):.1f} °C",
            )
        else:
            self.tiles["crop"].set("–", "not measured on a real greenhouse")
        if rec is None:
            self.tiles["plant_time"].set("–", snap.mode)
            return
        self.tiles["plant_time"].set(fmt_time(rec.time_s)[11:], fmt_time(rec.time_s)[:10])
        m = rec.measurements
        for name, _cap, _tip in (*INSIDE, *OUTSIDE):
            q = rec.quality.get(name, "good")
            digits = (
                0
                if name in ("co2_ppm", "par_umol_m2_s", "iglob_w_m2", "rh_pct", "rhout_pct")
                else 1
            )
            self.tiles[name].set(
                fmt_value(m.get(name), name, digits),
                "" if q == "good" else f"quality: {q}",
                None if q == "good" else "#bf8700",
            )
        sp = rec.setpoints
        self.tiles["tair_c"].detail.setText(
            f"heating setpoint {fmt_value(sp.get('heat_c'), 'heat_c')}"
        )
        self.tiles["co2_ppm"].detail.setText(
            f"setpoint {fmt_value(sp.get('co2_ppm'), 'co2_ppm', 0)}"
        )
        for name in ("pipe_c", "pipe_grow_c"):
            if rec.quality.get(name, "good") == "good":
                self.tiles[name].detail.setText("measured water temperature")
        pipe_sp = rec.commands.get("pipe_sp_c")
        self.tiles["pipe_c"].detail.setText(
            f"measured · setpoint {fmt_value(pipe_sp, 'pipe_sp_c', 0)}"
        )
        overridden = {o.actuator for o in snap.overrides}
        for name, _cap in ACTUATOR_TILES:
            rb = rec.readbacks.get(name)
            cmd = rec.commands.get(name)
            detail = f"read back · sent {fmt_value(cmd, name, 0)}"
            if name in overridden:
                detail += " · manual override"
            elif name in reasons:
                detail += "\n" + reasons[name]
            self.tiles[name].set(
                fmt_value(rb, name, 0), detail, "#8250df" if name in overridden else None
            )
            self.tiles[name].detail.setToolTip(reasons.get(name, ""))

    def add_records(self, records) -> None:
        """Append new tick records to the trends."""
        for rec in records:
            self._append(rec)
        if records:
            self._redraw()

    def _append(self, rec) -> None:
        t = rec.time_s
        for name, buf in self.history.items():
            if name.startswith("sp:"):
                v = rec.setpoints.get(name[3:])
            elif name.endswith("/10"):
                v = rec.measurements.get(name[:-3])
                v = None if v is None else v / 10.0
            else:
                v = rec.measurements.get(name, rec.readbacks.get(name))
            buf.append((t, np.nan if v is None else float(v)))
            while buf and buf[0][0] < t - TREND_S:
                buf.popleft()

    def load_history(self, data: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Prefill the trends with the last 24 h from the database."""
        for name, (ts, vs) in data.items():
            buf = self.history.get(name)
            if buf is None:
                continue
            old = list(buf)
            buf.clear()
            first_live = old[0][0] if old else np.inf
            buf.extend((float(t), float(v)) for t, v in zip(ts, vs, strict=True) if t < first_live)
            buf.extend(old)
        self._redraw()

    def _redraw(self) -> None:
        for (plot, curves), waiting in zip(self.plots, self.waiting, strict=True):
            drawn = False
            for name, curve in curves.items():
                buf = self.history[name]
                if buf:
                    arr = np.array(buf)
                    curve.setData(arr[:, 0], arr[:, 1], connect="finite")
                    drawn = True
            if drawn and waiting.isVisible():
                waiting.hide()
                for axis in ("left", "bottom"):
                    plot.getPlotItem().getAxis(axis).setStyle(showValues=True)


def read_trend_history(db_path: str, end_s: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The last 24 h of the trend channels from the database (run in a worker)."""
    from store.db import open_store
    from store.timeseries import downsample

    wanted = {}
    for _title, names in TRENDS:
        for name in names:
            col = "sp_" + name[3:] if name.startswith("sp:") else name.removesuffix("/10")
            wanted[name] = col
    out = {}
    with open_store(db_path, readonly=True) as store:
        known = store.channels
        cols = sorted({c for c in wanted.values() if c in known})
        if not cols:
            return {}
        buckets = downsample(store, cols, end_s - TREND_S, end_s + 1.0, points=600)
    for name, col in wanted.items():
        b = buckets.get(col)
        if b is not None:
            mean = b.mean / 10.0 if name.endswith("/10") else b.mean
            out[name] = (b.t_s + b.width_s / 2, mean)
    return out
