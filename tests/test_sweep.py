"""Sweeps: common random numbers, any number of workers or a Dask cluster, interrupted and resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import citysim
from citysim.errors import CitysimError
from citysim.experiments.plan import plan_for_regimes, plan_from_experiment
from citysim.experiments.spec import load_experiment
from citysim.experiments.sweep import run_sweep
from citysim.regimes import Regime
from citysim.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "scenarios" / "small.toml")

EXPERIMENT = f"""
name = "tiny"
scenario = "{SMALL}"
regimes = ["fragmented", "integrated"]
replications = 2
days = 1
seed = 11
metrics = ["report_resolution_median_h", "open_at_end"]

[design]
kind = "lhs"
samples = {{samples}}

[[parameters]]
lever = "paperwork_share"
low = 0.1
high = 0.5

[[parameters]]
name = "rate"
field = "city.rate_scale"
scale = true
low = 0.5
high = 1.5
"""


def experiment_file(folder: Path, samples: int = 3) -> Path:
    path = folder / "tiny.toml"
    path.write_text(EXPERIMENT.replace("{samples}", str(samples)), encoding="utf-8")
    return path


def table(folder: Path) -> pd.DataFrame:
    """The combined table without wall times (the only thing that differs between equal sweeps)."""
    return pd.read_parquet(folder / "runs.parquet").drop(columns="wall_s")


def test_replication_r_sees_the_same_incidents_under_every_regime():
    plan = plan_for_regimes(SMALL, ["fragmented", "integrated", "tech_only"], replications=2, days=1)
    occurrence = ["id", "type", "cell", "cohort", "occurred_at", "hazard", "severity"]
    for replication in range(2):
        tasks = [plan.task(i) for i in range(plan.n_runs) if plan.locate(i)[0] == replication]
        assert len({t.seed for t in tasks}) == 1
        runs = [
            citysim.simulate(scenario_from_dict(t.scenario), Regime.model_validate(t.regime), t.seed, t.days)
            for t in tasks
        ]
        assert all(r.incidents[occurrence].equals(runs[0].incidents[occurrence]) for r in runs[1:])
        assert runs[0].incidents["resolved_at"].ne(runs[1].incidents["resolved_at"]).any()
    assert plan.task(0).seed != plan.task(len(plan.regimes)).seed


def test_one_and_two_workers_give_the_same_table(tmp_path):
    exp, digest = load_experiment(experiment_file(tmp_path))
    plan = plan_from_experiment(exp, tmp_path / "tiny.toml")
    one = run_sweep(plan, tmp_path / "one", workers=1, experiment_sha=digest, progress=False)
    run_sweep(plan, tmp_path / "two", workers=2, experiment_sha=digest, progress=False)
    assert one.ran == plan.n_runs == 12 and not one.failed
    pd.testing.assert_frame_equal(table(tmp_path / "one"), table(tmp_path / "two"))
    assert list(table(tmp_path / "one")["index"]) == list(range(12))


def test_a_dask_cluster_gives_the_same_table_as_local_workers(tmp_path):
    distributed = pytest.importorskip("distributed")
    exp, digest = load_experiment(experiment_file(tmp_path, samples=2))
    plan = plan_from_experiment(exp, tmp_path / "tiny.toml")
    run_sweep(plan, tmp_path / "local", workers=2, experiment_sha=digest, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster:
        summary = run_sweep(
            plan, tmp_path / "dask", scheduler=cluster.scheduler_address, experiment_sha=digest, progress=False
        )
    assert summary.ran == plan.n_runs and not summary.failed
    pd.testing.assert_frame_equal(table(tmp_path / "local"), table(tmp_path / "dask"))


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_sweep_resumes_without_losing_or_repeating_a_run(tmp_path):
    path = experiment_file(tmp_path, samples=6)  # 24 runs
    exp, digest = load_experiment(path)
    run_sweep(plan_from_experiment(exp, path), tmp_path / "whole", workers=2, experiment_sha=digest, progress=False)
    command = [sys.executable, "-c", "from citysim.cli import main; main()", "sweep", str(path), "--quiet"]
    command += ["--workers", "2"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*command, "--out", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list((killed / "runs").glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((killed / "runs").glob("*.json")))
    assert 3 <= done < 24, "the kill should land mid-sweep"
    assert workers and all(_wait(lambda w=w: _gone(w)) for w in workers), "workers outlived their parent"
    resumed = subprocess.run([*command, "--out", str(killed)], check=True, capture_output=True, text=True)
    assert f"{24 - done} runs in" in resumed.stdout and f"{done} already done" in resumed.stdout
    assert len(list((killed / "runs").glob("*.json"))) == 24
    pd.testing.assert_frame_equal(table(tmp_path / "whole"), table(killed))


def _wait(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_failing_run_is_recorded_the_sweep_goes_on_and_retry_reruns_it(tmp_path, monkeypatch):
    exp, digest = load_experiment(experiment_file(tmp_path, samples=2))
    plan = plan_from_experiment(exp, tmp_path / "tiny.toml")
    unlucky = plan.task(3).seed
    real = citysim.simulation.simulate

    def flaky(scenario, regime, seed, *args, **kwargs):
        if seed == unlucky and regime.intake == "unified":
            raise RuntimeError("the dice fell off the table")
        return real(scenario, regime, seed, *args, **kwargs)

    monkeypatch.setattr(citysim.simulation, "simulate", flaky)
    summary = run_sweep(plan, tmp_path / "out", workers=2, experiment_sha=digest, progress=False)
    failed = [i for i in range(plan.n_runs) if plan.task(i).seed == unlucky and plan.locate(i)[1] == 1]
    assert summary.ran == plan.n_runs and [i for i, _ in summary.failed] == failed
    assert "RuntimeError: the dice fell off the table" in summary.failed[0][1]
    assert run_sweep(plan, tmp_path / "out", workers=2, experiment_sha=digest, progress=False).ran == 0
    monkeypatch.setattr(citysim.simulation, "simulate", real)
    again = run_sweep(plan, tmp_path / "out", workers=2, experiment_sha=digest, retry_failed=True, progress=False)
    assert again.ran == len(failed) and not again.failed
    assert set(table(tmp_path / "out").status) == {"ok"}


def test_a_resume_with_another_experiment_or_version_is_refused(tmp_path):
    path = experiment_file(tmp_path, samples=1)
    exp, digest = load_experiment(path)
    plan = plan_from_experiment(exp, path)
    run_sweep(plan, tmp_path / "out", workers=1, experiment_sha=digest, progress=False)
    path.write_text(path.read_text().replace("days = 1", "days = 2"))
    exp2, digest2 = load_experiment(path)
    with pytest.raises(CitysimError, match=r"manifest.json: experiment_sha: .*tiny.toml changed since"):
        run_sweep(plan_from_experiment(exp2, path), tmp_path / "out", experiment_sha=digest2, progress=False)
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    assert '"refused"' in manifest and "changed since" in manifest
    text = manifest.replace(f'"citysim_version": "{citysim.__version__}"', '"citysim_version": "0.0.1"')
    (tmp_path / "out" / "manifest.json").write_text(text)
    with pytest.raises(CitysimError, match=r"citysim_version: the runs were made by citysim 0.0.1"):
        run_sweep(plan, tmp_path / "out", experiment_sha=digest, progress=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_keeps_the_finished_runs_and_stops_every_worker(tmp_path):
    # far more runs than are done when Ctrl-C comes (runs of a day of a town take a fraction of a second:
    # with 12, a loaded machine once saw the sweep end before the signal), and it stops them all
    path = experiment_file(tmp_path, samples=50)
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from citysim.cli import main; main()", "sweep", str(path), "--out", str(out)]
    proc = subprocess.Popen(
        [*command, "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert _wait(lambda: len(list((out / "runs").glob("*.json"))) >= 2, 60)
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group (SIGTERM: the same)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    done = len(list((out / "runs").glob("*.json")))
    assert f"interrupted: {done} finished runs kept in {out}/runs; the same command resumes" in err
    assert workers and all(_wait(lambda w=w: _gone(w)) for w in workers)
    assert len(pd.read_parquet(out / "runs.parquet")) == done


def _square_or_die(x: int) -> int:
    if x == 3:
        os._exit(7)  # a worker killed mid-item (as by the out-of-memory killer)
    return x * x


def test_the_pool_replaces_dead_and_grown_workers_and_loses_nothing(monkeypatch):
    from citysim.experiments import pool

    monkeypatch.setattr(pool, "GROWTH_LIMIT", 0.0)  # every worker "grew": replaced after each item
    with pool.WorkerPool(_square_or_die, workers=2) as workers:
        results = dict(workers.run(range(8)))
    assert sorted(results) == list(range(8))
    assert isinstance(results[3], pool.WorkerDied) and "exit code 7" in str(results[3])
    assert all(results[x] == x * x for x in range(8) if x != 3)
