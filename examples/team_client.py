"""An example remote team for `serra compete serve` (httpx).

    python examples/team_client.py --url http://127.0.0.1:8760 --team remote-1 --token TOKEN

Each turn it reads its compartment's latest sensors and the allowed forecast, then posts
setpoints: 21 C heating by day and 18 C at night, the vents a little higher, more CO2 in
sunshine. `play_turn` is the whole logic, so a test can drive it against the app in-process.
"""

from __future__ import annotations

import argparse
import time

import httpx


def choose_setpoints(sensors: dict, weather: dict) -> dict[str, float]:
    """Setpoints from the latest air temperature and the next hour's forecast sunlight."""
    sun = weather["forecast"].get("iglob_w_m2") or weather["observed"]["iglob_w_m2"][-1:] or [0.0]
    bright = sum(sun[:12]) / max(1, len(sun[:12])) > 50.0
    heat = 21.0 if bright else 18.0
    rows = sensors["rows"]
    tair = rows[-1][sensors["columns"].index("tair_c")] if rows else heat
    return {
        "heat_c": heat,
        "vent_lee_c": max(heat + 2.0, min(30.0, tair + 1.0)),
        "vent_wind_c": heat + 4.0,
        "co2_ppm": 900.0 if bright else 450.0,
    }


def play_turn(client: httpx.Client, team: str, since: float | None = None) -> float | None:
    """Play one decision if the server is waiting for `team`; return the last sensor time seen.

    `client` carries the base URL and the `Authorization: Bearer <token>` header.
    """
    status = client.get("/api/status").raise_for_status().json()
    if status["finished"] or team not in status["waiting_for"]:
        return since
    params = {} if since is None else {"since": since}
    sensors = client.get(f"/api/teams/{team}/sensors", params=params).raise_for_status().json()
    weather = client.get("/api/weather", params={"since": since or 0}).raise_for_status().json()
    client.post(f"/api/teams/{team}/setpoints", json=choose_setpoints(sensors, weather))
    return sensors["time_s"][-1] if sensors["time_s"] else since


def main() -> None:
    """Play until the season is over."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8760")
    parser.add_argument("--team", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"}
    since = None
    with httpx.Client(base_url=args.url, headers=headers, timeout=10.0) as client:
        while not client.get("/api/status").raise_for_status().json()["finished"]:
            since = play_turn(client, args.team, since)
            time.sleep(0.2)  # a real client polls; the server's deadline bounds the wait
        print(client.get("/api/leaderboard").json())


if __name__ == "__main__":
    main()
