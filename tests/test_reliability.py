# ruff: noqa: E501  (exact error messages are long lines)
"""Bad input gets one line naming the file, field or option and what is allowed, and exit status 2.

One test per case found in issue 10 ("what was found", items 5 and 7 to 9; item 10 is
tests/test_shipped.py, item 11 tests/test_sources.py), each asserting the exact message.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import citysim
from citysim.cli import main
from citysim.errors import OptionError, ScenarioError
from tests.conftest import town

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "scenarios" / "small.toml")


def refused(*args: str, env: dict | None = None) -> str:
    """Run citysim; it must exit 2 with one ``error:`` line on stderr and no traceback. Returns the line."""
    result = CliRunner().invoke(main, list(args), env=env, prog_name="citysim")
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def edited(path: Path, old: str, new: str) -> str:
    """Replace one piece of a scenario file's text; the file's path, as text."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------ 5: whole days


def test_a_fraction_of_a_day_is_refused():
    assert (
        refused("run", SMALL, "--days", "1.5")
        == "error: --days: 1.5 is not allowed; allowed: whole days from 1 to 3,650"
    )
    assert refused("run", SMALL, "--warmup-days", "0.5") == (
        "error: --warmup-days: 0.5 is not allowed; allowed: whole days from 0 to 3,650"
    )


def test_the_python_api_takes_whole_days_too(small):
    with pytest.raises(OptionError, match=r"^days: 1.5 is not allowed; allowed: whole days from 1 to 3,650$"):
        citysim.simulate(small, days=1.5)


def test_a_scenario_file_takes_whole_days(town_files):
    town = edited(town_files[0], "days = 7", "days = 1.5")
    assert refused("check", town) == (
        f"error: {town}: days: 1.5: must be a valid integer, got a number with a fractional part"
    )


# ------------------------------------------------------------------ runs that end


@pytest.mark.parametrize("rate_scale", [1e-9, 0.003])
def test_a_town_so_quiet_some_days_have_no_incident_or_none_detected(small_dict, rate_scale):
    # found by fuzzing: a day whose incidents take no step at all ("no slots")
    run = citysim.simulate(town(small_dict, rate_scale=rate_scale), days=10, warmup_days=0, follow_up_days=0)
    assert run.metrics["counts"]["incidents"] == len(run.incidents)
    assert (len(run.incidents) == 0) == (rate_scale < 1e-6)
    assert set(run.incidents.status) <= {"resolved", "in_progress", "undetected"}


def test_a_finished_model_is_freed(small):
    # Mesa 3.3.1 kept every model alive (Agent._ids), so a process running many runs grew without bound
    import gc
    import weakref

    from citysim.model import CityModel

    model = CityModel(small, small.regime_named("integrated"), seed=1)
    model.run()
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


# ------------------------------------------------------------------ 7: tracebacks


def test_a_folder_as_scenario(tmp_path):
    assert refused("check", str(tmp_path)) == f"error: {tmp_path}: is a folder, not a scenario file"


def test_a_binary_file_as_scenario(tmp_path):
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"name = 'x'\n\xd0\xff\x00")
    assert refused("run", str(binary)) == (
        f"error: {binary}: is not UTF-8 text (byte 0xd0 at offset 11); a scenario file is TOML in UTF-8"
    )


def test_extends_naming_a_folder(tmp_path):
    (tmp_path / "parts").mkdir()
    town = tmp_path / "town.toml"
    town.write_text('extends = "parts"\nname = "t"\n')
    assert refused("check", str(town)) == f"error: {town}: extends: 'parts': is a folder, not a scenario file"


def test_a_symlink_loop_and_a_name_too_long(tmp_path):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    town = tmp_path / "town.toml"
    town.write_text('extends = "a.toml"\nname = "t"\n')
    assert refused("check", str(tmp_path / "a.toml")) == (
        f"error: {tmp_path / 'a.toml'}: cannot be read: Too many levels of symbolic links"
    )
    assert refused("check", str(town)) == (
        f"error: {town}: extends: 'a.toml': cannot be read: Too many levels of symbolic links"
    )
    long = str(tmp_path / ("x" * 300))
    assert refused("run", long) == f"error: {long}: cannot be read: File name too long"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_not_read():
    assert refused("check", "/dev/zero") == (
        "error: /dev/zero: is not a regular file (a device, pipe or socket), not a scenario file"
    )


def test_a_file_over_the_size_limit_is_not_read(tmp_path):
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as f:
        f.truncate(10 * 1024 * 1024 + 1)
    assert refused("check", str(huge)) == (
        f"error: {huge}: is 10,485,761 bytes; a scenario file may have at most 10,485,760 bytes"
    )


@pytest.mark.parametrize("days", ["nan", "inf", "-inf", "0", "1e9"])
def test_days_nan_inf_or_out_of_range(days):
    assert refused("run", SMALL, "--days", days) == (
        f"error: --days: {days} is not allowed; allowed: whole days from 1 to 3,650"
    )


def test_a_negative_or_too_large_seed():
    for seed in ("-1", "4294967296", "1.5"):
        assert refused("run", SMALL, "--seed", seed) == (
            f"error: --seed: {seed} is not allowed; allowed: a whole number from 0 to 4,294,967,295"
        )


def test_an_output_folder_under_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert refused("run", SMALL, "--days", "1", "--out", str(blocker / "out")) == (
        f"error: --out: cannot write to {blocker / 'out'}: Not a directory"
    )
    assert refused("run", SMALL, "--days", "1", "--out", str(blocker)) == (
        f"error: --out: cannot write to {blocker}: it is a file, not a folder"
    )


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc")
def test_an_output_folder_under_proc():
    assert refused("run", SMALL, "--days", "1", "--out", "/proc/citysim-out").startswith(
        "error: --out: cannot write to /proc/citysim-out: "
    )


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_output_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert refused("run", SMALL, "--days", "1", "--out", str(locked / "out")) == (
            f"error: --out: cannot write to {locked / 'out'}: Permission denied"
        )
    finally:
        locked.chmod(0o755)


def test_validate_with_no_workers(tmp_path):
    assert refused("validate", "--quick", "--workers", "-1", "--out", str(tmp_path)) == (
        "error: --workers: -1 is not allowed; allowed: a whole number from 1 to 256"
    )


def test_validate_into_a_folder_it_cannot_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert refused("validate", "--quick", "--out", str(blocker / "v")) == (
        f"error: --out: cannot write to {blocker / 'v'}: Not a directory"
    )


def test_an_unknown_engine(tmp_path):
    expected = "error: CITYSIM_ENGINE: 'turbo' is not one of 'auto', 'python' or 'numba'"
    env = {"CITYSIM_ENGINE": "turbo"}
    assert refused("run", SMALL, "--days", "1", "--out", str(tmp_path), env=env) == expected
    assert refused("validate", "--quick", "--out", str(tmp_path), env=env) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("inf", "inf: must be a finite number"),
        ("nan", "nan: must be a finite number"),
        ("1e300", "1e+300: must be less than or equal to 1000000"),
    ],
)
def test_an_infinite_or_huge_area(town_files, value, message):
    town = edited(town_files[0], "area_km2 = 12.0", f"area_km2 = {value}")
    assert refused("check", town) == f"error: {town}: city.districts[0].area_km2: {message}"


def test_an_infinite_rate_scale_fails_check_not_run(town_files, tmp_path):
    town = edited(town_files[0], "rate_scale = 0.68", "rate_scale = inf")
    expected = f"error: {town}: city.rate_scale: inf: must be a finite number"
    assert refused("check", town) == expected
    assert refused("run", town, "--days", "1", "--out", str(tmp_path / "out")) == expected


def test_a_staffing_scale_whose_unit_counts_would_overflow(town_files):
    town = edited(town_files[0], "staffing_scale = 0.68", "staffing_scale = 1e300")
    assert refused("check", town) == f"error: {town}: city.staffing_scale: 1e+300: must be less than or equal to 100"


def test_nan_or_inf_anywhere_in_the_common_file(town_files):
    _, common = town_files
    edited(common, "mean = 60.0", "mean = nan")
    message = refused("check", str(town_files[0]))
    assert message.startswith(f"error: {town_files[0]}: ") and message.endswith(": nan: must be a finite number")


def test_a_usage_mistake_is_one_line_too():
    assert refused("run") == "error: Missing argument 'SCENARIO'. (see citysim run --help)"
    assert refused("run", SMALL, "--dayz", "2") == (
        "error: No such option '--dayz'. Did you mean '--days'? (see citysim run --help)"
    )
    assert refused("frobnicate") == "error: No such command 'frobnicate'. (see citysim --help)"


# ------------------------------------------------------------------ 8: unbounded inputs


@pytest.mark.parametrize("population", ["1000000000000", "9223372036854775807"])
def test_a_population_beyond_any_city(town_files, population):
    town = edited(town_files[0], "population = 40000", f"population = {population}")
    assert refused("check", town) == (
        f"error: {town}: city.districts[0].population: {population}: must be less than or equal to 100000000"
    )


def test_a_rate_scale_of_a_million(town_files):
    town = edited(town_files[0], "rate_scale = 0.68", "rate_scale = 1e6")
    assert refused("check", town) == f"error: {town}: city.rate_scale: 1000000.0: must be less than or equal to 100"


@pytest.mark.parametrize(
    ("population", "edit", "message"),
    [
        (
            90_000_000,
            ("households_per_cell = 300", "households_per_cell = 1"),
            "city.districts: grid cells: 36,742,858; at most 1,000,000 (check the districts' population and "
            "cells_per_street, and city.households_per_cell)",
        ),
        (
            40_000_000,
            ("rate_scale = 0.68", "rate_scale = 90"),
            "incident_types: incidents expected on the busiest day: 10,516,425; at most 1,000,000 (check "
            "rate_per_1000_day and its multipliers, the shocks' multipliers, city.rate_scale and the districts' "
            "population)",
        ),
    ],
)
def test_a_city_too_big_in_all_though_each_number_is_allowed(town_files, population, edit, message):
    edited(town_files[0], "population = 40000", f"population = {population}")
    town = edited(town_files[0], *edit)
    assert refused("check", town) == f"error: {town}: {message}"


def test_check_shows_the_daily_volume_memory_and_time(town_files):
    town = edited(town_files[0], "rate_scale = 0.68", "rate_scale = 40")
    result = CliRunner().invoke(main, ["check", town])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[2] == "  14 incident types: about 7,066 incidents a day; false alarms a day: about 1"
    assert lines[3].startswith("  a run of 35 simulated days (the scenario's): about 0.")
    assert lines[4] == (
        "  note: 43 incidents per resident a year (the shipped cities: 0.3 to 0.5); if that is not intended, "
        "check city.rate_scale and the rate_per_1000_day"
    )


# ------------------------------------------------------------------ 9: run.toml reproduces every run


@pytest.mark.parametrize("value", ["inf", "nan", "1e9"])
def test_a_lever_that_run_toml_could_not_hold(value):
    message = refused("run", SMALL, "--days", "1", "--set", f"data_approval_delay_h={value}")
    shown = {"inf": "inf: must be a finite number", "nan": "nan: must be a finite number"}
    assert message == "error: --set: data_approval_delay_h: " + shown.get(
        value, "1000000000.0: must be less than or equal to 87600"
    )


def a_run_toml(tmp_path: Path) -> tuple[Path, str]:
    """The run.toml of a one-day run of the small town, and its text."""
    out = tmp_path / "run"
    ok = CliRunner().invoke(main, ["run", SMALL, "--days", "1", "--out", str(out), "--quiet", "--no-figures"])
    assert ok.exit_code == 0, ok.output
    return out / "run.toml", (out / "run.toml").read_text(encoding="utf-8")


def test_a_damaged_run_toml_is_named(tmp_path):
    record, text = a_run_toml(tmp_path)
    record.write_text(text.replace("days = 1", "days = -1", 1), encoding="utf-8")
    assert refused("run", str(record)) == (f"error: {record}: citysim_run.days: -1: must be greater than or equal to 1")
    record.write_text(text[: text.index("[regime]")] + text[text.index("[scenario]") :], encoding="utf-8")
    assert refused("run", str(record)) == (
        f"error: {record}: regime: a run.toml needs its [regime] table (citysim run writes it)"
    )


def test_errors_survive_a_trip_to_a_worker_process():
    import pickle

    for err in (ScenarioError("a.toml", "city.rate_scale", "too big"), OptionError("--days", "1.5 is not allowed")):
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and str(again) == str(err)


def test_a_stopped_run_toml_must_say_all_of_where_it_stopped(tmp_path):
    record, text = a_run_toml(tmp_path)
    record.write_text(text.replace('regime = "integrated"', 'regime = "integrated"\nstopped_in = "window"', 1))
    assert refused("run", str(record)) == (
        f"error: {record}: citysim_run: a stopped run records stopped, stopped_in, simulated_days, "
        "requested_warmup_days, requested_days, requested_follow_up_days; missing: stopped, simulated_days, "
        "requested_warmup_days, requested_days, requested_follow_up_days"
    )
