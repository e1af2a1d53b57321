"""`serra model dataset | train | list | eval | promote | rollback`: learned day models."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from app.cli import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serra model ...` to the command line."""
    model = subparsers.add_parser(
        "model", help="learned growth models: datasets, training, registry"
    )
    sub = model.add_subparsers(dest="model_command", required=True)
    ds = sub.add_parser("dataset", help="simulate seasons under random plans into a day table")
    ds.add_argument("--out", required=True, metavar="DIR", help="folder for days.npz + days.json")
    ds.add_argument("--seasons", type=int, default=200, help="number of seasons (default 200)")
    ds.add_argument("--days", type=float, default=115.0, help="season length in days")
    ds.add_argument("--seed", type=int, default=0, help="seed of the random plans")
    ds.add_argument("--workers", type=int, default=None, help="worker processes")
    ds.set_defaults(handler=_dataset)
    tr = sub.add_parser("train", help="tune three kinds of model by grouped CV, save the best")
    tr.add_argument("--name", required=True, help="model name in the registry")
    tr.add_argument("--preset", default="default", help="search budget: default or quick")
    tr.add_argument("--data", metavar="DIR", help="day table (default: build 200 seasons, seed 0)")
    tr.add_argument("--to", metavar="DIR", help="write into DIR instead of the registry")
    tr.set_defaults(handler=_train)
    ls = sub.add_parser("list", help="models in the registry (JSON lines)")
    ls.set_defaults(handler=_list)
    ev = sub.add_parser("eval", help="metrics of a model on a day table")
    ev.add_argument("name", nargs="?", help="model name (default: the active one)")
    ev.add_argument("--data", required=True, metavar="DIR", help="day table")
    ev.set_defaults(handler=_eval)
    pr = sub.add_parser("promote", help="make a model the one the learned strategy uses")
    pr.add_argument("name")
    pr.set_defaults(handler=_promote)
    rb = sub.add_parser("rollback", help="go back to the model active before the last promote")
    rb.set_defaults(handler=_rollback)


def _errors() -> tuple[type[Exception], ...]:
    from controllers.dataset import DatasetError
    from models.registry import RegistryError
    from models.table import TableError
    from models.train import TrainError

    return (DatasetError, RegistryError, TableError, TrainError)


def _print(obj: Any) -> None:
    json.dump(obj, sys.stdout)
    sys.stdout.write("\n")


def _dataset(args: argparse.Namespace) -> int:
    from controllers.dataset import build_dataset
    from models.table import save_table

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: exists and is not a folder; name a folder")
    t0 = time.perf_counter()
    try:
        table = build_dataset(args.seasons, seed=args.seed, days=args.days, workers=args.workers)
        save_table(out, table)
    except _errors() as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"--out {out}: cannot write ({exc.strerror})") from None
    _print({"out": str(out), "rows": len(table), "seasons": args.seasons,
            "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
    return 0


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    from controllers.dataset import build_dataset
    from models.registry import Registry, save_model
    from models.table import load_table
    from models.train import PRESETS, input_ranges, metrics, train

    if args.preset not in PRESETS:
        raise CliError(f"--preset {args.preset!r} is not known; use {' or '.join(PRESETS)}")
    preset = PRESETS[args.preset]
    t0 = time.perf_counter()
    try:
        table = load_table(args.data) if args.data else build_dataset(200, seed=preset.seed)
        held = np.isin(table.weather_id, table.meta.get("held_out_weather", []))
        train_rows = table.subset(~held)
        model, report = train(train_rows, preset, progress=lambda s: print(s, file=sys.stderr))
        test = table.subset(held)
        from models.features import FEATURES

        held_metrics = metrics(test, model.predict(test.matrix(FEATURES))) if len(test) else {}
        weathers = table.meta.get("weathers", {})
        meta = {
            "trained": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "preset": args.preset,
            "seed": preset.seed,
            "data_sha256": table.digest(),
            "rows_trained": len(train_rows),
            "held_out_weathers": [
                weathers.get(str(w), str(w)) for w in np.unique(table.weather_id[held])
            ],
            "metrics_held_out": held_metrics,
            "cv": report,
            "input_ranges": input_ranges(train_rows),
            "train_seconds": round(time.perf_counter() - t0, 1),
        }
        directory = Path(args.to) if args.to else Registry().root
        path = save_model(directory, args.name, model, meta)
    except _errors() as exc:
        raise CliError(str(exc)) from None
    _print({"name": args.name, "path": str(path), "bytes": path.stat().st_size,
            "seconds": meta["train_seconds"], "choice": model.choice,
            "metrics_held_out": held_metrics})  # fmt: skip
    return 0


def _list(args: argparse.Namespace) -> int:
    from models.registry import Registry

    reg = Registry()
    try:
        active = reg.active()
        for name in reg.names():
            meta = reg.meta(name)
            m = meta.get("metrics_held_out", {})
            _print({"name": name, "active": name == active, "trained": meta.get("trained"),
                    "scikit-learn": meta.get("versions", {}).get("scikit-learn"),
                    "r2_held_out": {t: v["r2"] for t, v in m.items()}})  # fmt: skip
    except _errors() as exc:
        raise CliError(str(exc)) from None
    return 0


def _eval(args: argparse.Namespace) -> int:
    from models.features import FEATURES
    from models.registry import Registry
    from models.table import load_table
    from models.train import metrics

    try:
        loaded = Registry().load(args.name)
        table = load_table(args.data)
        predicted = loaded.model.predict(table.matrix(FEATURES))
        _print({"name": loaded.name, "rows": len(table), "metrics": metrics(table, predicted)})
    except _errors() as exc:
        raise CliError(str(exc)) from None
    return 0


def _promote(args: argparse.Namespace) -> int:
    from models.registry import Registry

    try:
        Registry().promote(args.name)
    except _errors() as exc:
        raise CliError(str(exc)) from None
    _print({"active": args.name})
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from models.registry import Registry

    try:
        name = Registry().rollback()
    except _errors() as exc:
        raise CliError(str(exc)) from None
    _print({"active": name})
    return 0
