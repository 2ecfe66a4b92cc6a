"""A sweep folder: its manifest, one file per finished run, and the combined table.

::

    DIR/manifest.json      what the runs are (plan, digests, citysim version), resumes and refusals
    DIR/runs/000042.json   run 42's record, written at once and atomically when it finishes
    DIR/runs.parquet       one row per finished run, sorted by run index

A run file exists only for a run that finished (its record says ``ok`` or
``failed`` with the error); a run interrupted on a worker leaves nothing, so
resuming runs it again. Files are written to a temporary name and renamed, so
a kill at any moment leaves either the whole file or none.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from citysim.errors import CitysimError

__all__ = [
    "annotate_manifest",
    "load_manifest",
    "open_folder",
    "read_records",
    "runs_table",
    "write_record",
    "write_table",
]

FORMAT = "citysim-runs/1"
MANIFEST = "manifest.json"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _version() -> str:
    from citysim import __version__

    return __version__


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def load_manifest(out: Path) -> dict[str, Any]:
    """A folder's manifest.

    Raises:
        CitysimError: the folder is not one that citysim's compare, sweep or attribute wrote.
    """
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise CitysimError(
            f"{out}: not a sweep folder (no {MANIFEST}); give a folder that citysim sweep, compare or attribute wrote"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CitysimError(f"{path}: not valid JSON: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise CitysimError(f"{path}: format: {manifest.get('format')!r} is not {FORMAT!r}")
    return manifest


def _refuse(out: Path, manifest: dict[str, Any], field: str, reason: str) -> None:
    manifest.setdefault("refused", []).append({"at": _now(), "field": field, "reason": reason})
    _atomic_write(out / MANIFEST, json.dumps(manifest, indent=1))
    raise CitysimError(f"{out / MANIFEST}: {field}: {reason}; start a new --out folder to run it afresh")


def open_folder(out: Path, plan, experiment_sha: str | None = None) -> dict[str, Any]:
    """Create a sweep folder for a plan, or check that an existing one is the same plan's (a resume).

    Raises:
        CitysimError: the folder holds another experiment's runs, or another citysim version's
            (the refusal is recorded in the manifest).
    """
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    fingerprint = plan.fingerprint()
    if (out / MANIFEST).is_file():
        manifest = load_manifest(out)
        if manifest["citysim_version"] != _version():
            _refuse(
                out,
                manifest,
                "citysim_version",
                f"the runs were made by citysim {manifest['citysim_version']}, this is {_version()}",
            )
        if manifest.get("experiment_sha") != experiment_sha:
            was, now = str(manifest.get("experiment_sha"))[:12], str(experiment_sha)[:12]
            _refuse(
                out, manifest, "experiment_sha", f"{plan.source} changed since this folder was started ({was} -> {now})"
            )
        if manifest["fingerprint"] != fingerprint:
            _refuse(
                out,
                manifest,
                "fingerprint",
                "the runs differ from this folder's (another scenario, regimes, levers, days or seed)",
            )
        manifest["replications"] = max(manifest["replications"], plan.replications)
        manifest.setdefault("resumed", []).append(_now())
    else:
        manifest = {
            "format": FORMAT,
            "kind": plan.kind,
            "citysim_version": _version(),
            "created": _now(),
            "experiment_sha": experiment_sha,
            "fingerprint": fingerprint,
            "replications": plan.replications,
            "plan": plan.describe(),
        }
    manifest["runs"] = plan.n_runs
    _atomic_write(out / MANIFEST, json.dumps(manifest, indent=1, default=str))
    return manifest


def annotate_manifest(out: Path, key: str, note: dict[str, Any]) -> None:
    """Add what a command made of the runs (a comparison's replications, an analysis) to the manifest."""
    manifest = load_manifest(Path(out))
    manifest[key] = note
    _atomic_write(Path(out) / MANIFEST, json.dumps(manifest, indent=1, default=str))


def write_record(out: Path, record: dict[str, Any]) -> None:
    """Write one finished run's record as ``runs/<index>.json``, atomically."""
    _atomic_write(Path(out) / "runs" / f"{record['index']:06d}.json", json.dumps(record, default=str))


def read_records(out: Path) -> dict[int, dict[str, Any]]:
    """Every finished run's record in a folder, by run index."""
    records = {}
    for path in sorted((Path(out) / "runs").glob("[0-9]*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[int(record["index"])] = record
    return records


def runs_table(records: dict[int, dict[str, Any]], scenario_name: str) -> pd.DataFrame:
    """One row per run, by index: scenario, regime, every lever, parameters, seed, replication, every headline
    metric, annual cost (where priced) and wall time."""
    from citysim.experiments.headline import headline_kinds

    metrics = list(headline_kinds())
    rows = []
    for index in sorted(records):
        rec = records[index]
        row: dict[str, Any] = {"index": index, "scenario": scenario_name, "regime": rec["regime"]}
        row.update(rec.get("levers", {}))
        row.update({k: v for k, v in rec.get("params", {}).items() if k not in row})
        row.update(
            seed=rec["seed"],
            replication=rec["replication"],
            point=rec["point"],
            status=rec["status"],
            error=rec.get("error"),
        )
        headline = rec.get("headline") or {}
        for name in metrics:
            row[name] = headline.get(name, math.nan)
        if rec.get("cost") is not None:
            row["annual_cost"] = rec["cost"]
        row["wall_s"] = rec.get("wall_s", math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def write_table(out: Path, table: pd.DataFrame) -> Path:
    """Write ``runs.parquet`` (atomically)."""
    path = Path(out) / "runs.parquet"
    tmp = path.with_name(f".runs.parquet.{os.getpid()}.tmp")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path
