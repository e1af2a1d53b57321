"""Local clock time at a site, vectorised: UTC offsets, naive wall-clock times to UTC, messages.

zoneinfo is asked once per day, and per row only on the days a daylight-saving change falls on.
Weather files (sim.weather_files) and logged compartments (controllers.replay_log) share it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import numpy as np

DAY_S = 86400.0
#: Excel serial day of 1970-01-01 (the WUR files' `%time` counts days from 1899-12-30).
EXCEL_EPOCH_DAYS = 25569.0


def utc_offsets_s(time_s: np.ndarray, tz: tzinfo) -> np.ndarray:
    """UTC offset (s) of the time zone at each UTC epoch second."""
    t = np.asarray(time_s, dtype=np.float64)
    days = np.floor(t / DAY_S)
    out = np.empty_like(t)
    uniq, inverse = np.unique(days, return_inverse=True)
    for k, d in enumerate(uniq):
        rows = inverse == k
        a = datetime.fromtimestamp(d * DAY_S, tz).utcoffset()
        b = datetime.fromtimestamp((d + 1) * DAY_S, tz).utcoffset()
        if a == b:
            out[rows] = 0.0 if a is None else a.total_seconds()
        else:
            out[rows] = [utc_offset_s(datetime.fromtimestamp(float(x), tz)) for x in t[rows]]
    return out


def utc_offset_s(dt: datetime) -> float:
    """The UTC offset (s) of an aware datetime (0 for a naive one, which has none)."""
    offset = dt.utcoffset()
    return 0.0 if offset is None else offset.total_seconds()


def wall_offsets(local_s: np.ndarray, tz: tzinfo) -> tuple[np.ndarray, np.ndarray]:
    """UTC offsets (s) of naive local wall-clock seconds with fold=0 and fold=1 (PEP 495)."""
    days = np.floor(local_s / DAY_S)
    off0 = np.empty_like(local_s)
    off1 = np.empty_like(local_s)
    epoch = datetime(1970, 1, 1)
    uniq, inverse = np.unique(days, return_inverse=True)

    def offsets(x: float) -> tuple[float, float]:
        dt = (epoch + timedelta(seconds=x)).replace(tzinfo=tz)
        return (
            utc_offset_s(dt),
            utc_offset_s(dt.replace(fold=1)),
        )

    for k, d in enumerate(uniq):
        rows = inverse == k
        a0, a1 = offsets(d * DAY_S)
        b0, b1 = offsets((d + 1) * DAY_S)
        if a0 == a1 == b0 == b1:
            off0[rows] = a0
            off1[rows] = a0
        else:
            pairs = np.array([offsets(float(x)) for x in local_s[rows]])
            off0[rows] = pairs[:, 0]
            off1[rows] = pairs[:, 1]
    return off0, off1


def local_to_utc(local_s: np.ndarray, tz: tzinfo) -> tuple[np.ndarray, np.ndarray]:
    """UTC seconds of naive local wall-clock seconds, and a mask of rows to keep.

    Ambiguous times (the repeated autumn hour) are the first occurrence unless the clock steps
    back into the repeat; times that do not exist (the skipped spring hour) are dropped.
    """
    off0, off1 = wall_offsets(local_s, tz)
    ambiguous = off0 > off1
    keep = ~(off0 < off1)
    utc = local_s - off0
    back = np.nonzero(np.diff(local_s) <= 0)[0] + 1
    for i in back:
        if ambiguous[i] and local_s[i - 1] - local_s[i] < off0[i] - off1[i] + 1e-6:
            j = i
            while j < len(local_s) and ambiguous[j] and (j == i or local_s[j] > local_s[j - 1]):
                utc[j] = local_s[j] - off1[j]
                j += 1
    return utc, keep


def fmt_local(t_utc: float, tz: tzinfo) -> str:
    """A UTC epoch second as local clock time for messages, e.g. '2018-10-28 02:30 CET'."""
    return datetime.fromtimestamp(float(t_utc), tz).strftime("%Y-%m-%d %H:%M %Z")


def fmt_duration(seconds: float) -> str:
    """A span in seconds as '4 h 55 min' or '35 min' (rounded to the minute), for messages."""
    minutes = round(seconds / 60.0)
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if h else f"{m} min"
