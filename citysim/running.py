"""``citysim run`` day by day: a run's folder is complete, or says exactly what it is.

A run writes into a temporary folder beside its output folder (``.NAME.citysim-PID``)
and, when it ends, replaces the output folder with it as a whole: the files of two
runs never mix, and no reader sees a half-written table. Running the same command
twice replaces the folder; a folder that holds anything but a citysim run's files is
refused (:func:`check_output_folder`).

SIGINT (Ctrl-C) and SIGTERM stop the run at the end of the simulated day under way,
never within one, and what was simulated is written as a result of the measurement
contract, marked as such (:class:`~citysim.window.Stop`): stopped in the warm-up,
``run.toml`` and ``metrics.json`` say that nothing was measured and there are no
tables; stopped in the window, the window ends there. A second signal abandons the
run: nothing is written and the output folder stays as it was. The exit status is
128 + the signal's number (130, 143). After SIGKILL the output folder holds the
previous complete run, or nothing; the next run into it removes what the killed
one left beside it.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from citysim.errors import OptionError
from citysim.limits import MAX_FILE_BYTES
from citysim.options import writable_folder
from citysim.regimes import Regime
from citysim.report import TABLES, summary_lines, write_outputs, write_unmeasured
from citysim.scenario import Scenario
from citysim.window import Stop, Window

__all__ = ["OUTPUT_FILES", "Abandoned", "Staging", "StopSignals", "check_output_folder", "run_to_folder"]

OUTPUT_FILES = frozenset({*(f"{t}.parquet" for t in TABLES), "metrics.json", "run.toml", "figures"})
"""What a run's folder may hold (``figures/`` holds :data:`citysim.figures.FIGURES`)."""

_LEFT_BEHIND = re.compile(r"^\.(?P<name>.+)\.citysim-(?:old-)?(?P<pid>\d+)$")


# ------------------------------------------------------------------ the output folder


def _is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a ``run.toml`` with a ``[citysim_run]`` table."""
    record = folder / "run.toml"
    try:
        if not record.is_file() or record.stat().st_size > MAX_FILE_BYTES:
            return False
        data = tomllib.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False
    return isinstance(data.get("citysim_run"), dict)


def check_output_folder(out: Path, option: str = "--out") -> None:
    """Refuse an output folder that holds anything but a citysim run's files (a run replaces it whole).

    A missing or empty folder, or a citysim run's folder (a ``run.toml`` with ``[citysim_run]``, the
    tables, ``metrics.json`` and ``figures/``), is fine; a path that cannot be listed is left to
    :func:`~citysim.options.writable_folder` to explain.

    Raises:
        OptionError: naming the folder, and the first file citysim did not write.
    """
    try:
        entries = sorted(out.iterdir()) if out.is_dir() else []
    except OSError:
        return
    if not entries:
        return
    if not _is_run_folder(out):
        raise OptionError(
            option,
            f"{out} is not empty and is not a citysim run's folder (no run.toml with [citysim_run]); "
            "a run replaces its folder as a whole: give a new or empty folder",
        )
    for entry in entries:
        inside = sorted(entry.iterdir()) if entry.name == "figures" and entry.is_dir() else []
        if inside:
            from citysim.figures import FIGURES  # matplotlib only when there are figures
        foreign = [p for p in inside if p.name not in FIGURES or not p.is_file()]
        if entry.name not in OUTPUT_FILES or (entry.name == "figures") != entry.is_dir() or foreign:
            name = (foreign[0].relative_to(out) if foreign else entry.relative_to(out)).as_posix()
            raise OptionError(
                option,
                f"{out} holds {name}, which citysim did not write; a run replaces its folder as a whole: "
                f"move {name} or give another folder",
            )


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (elsewhere than on POSIX, where signal 0 would kill it, taken as gone)."""
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Staging:
    """The temporary folder a run writes into, beside its output folder, and the swap that ends the run.

    Args:
        out: the output folder.
        option: the option that named it (for errors).
    """

    def __init__(self, out: Path, option: str = "--out") -> None:
        self.out = Path(os.path.realpath(out)) if os.path.islink(out) else Path(out)
        self.option = option
        self.path = self.out.parent / f".{self.out.name}.citysim-{os.getpid()}"
        self._old = self.out.parent / f".{self.out.name}.citysim-old-{os.getpid()}"

    def begin(self) -> Path:
        """Remove what killed runs into the same folder left beside it, and make the temporary folder.

        Raises:
            OptionError: another citysim run is writing the same folder, or no folder can be made beside it.
        """
        for sibling in self.out.parent.glob(f".{glob.escape(self.out.name)}.citysim-*"):
            found = _LEFT_BEHIND.match(sibling.name)
            if found is None or found["name"] != self.out.name:
                continue
            pid = int(found["pid"])
            if pid != os.getpid() and _alive(pid):
                raise OptionError(
                    self.option,
                    f"another citysim run (process {pid}) is writing {self.out}; "
                    f"wait for it to end, or remove {sibling} if that process is not citysim",
                )
            shutil.rmtree(sibling, ignore_errors=True)
        try:
            self.path.mkdir()
        except OSError as exc:
            raise OptionError(self.option, f"cannot write beside {self.out}: {exc.strerror or exc}") from None
        return self.path

    def commit(self) -> None:
        """Replace the output folder with the temporary one (at once if it was missing or empty)."""
        try:
            os.rename(self.path, self.out)  # replaces a missing or empty folder in one step
            return
        except OSError:
            pass
        os.rename(self.out, self._old)  # killed between these two: the output folder is missing, not mixed
        os.rename(self.path, self.out)
        shutil.rmtree(self._old, ignore_errors=True)

    def discard(self) -> None:
        """Remove the temporary folder (the output folder stays as it was)."""
        shutil.rmtree(self.path, ignore_errors=True)


# ------------------------------------------------------------------ signals


class Abandoned(BaseException):  # noqa: N818 (not an error: the user asked for it)
    """A second SIGINT or SIGTERM: the run is abandoned and nothing is written."""

    def __init__(self, signum: signal.Signals) -> None:
        super().__init__(signum.name)
        self.signal = signum


def _say(text: str) -> None:
    """Write to stderr from a signal handler (straight to the file descriptor: no lock to re-enter)."""
    try:
        os.write(2, text.encode())
    except OSError:
        pass


class StopSignals:
    """While active, SIGINT and SIGTERM ask the run to stop between days; a second one abandons it.

    The handler only records the signal: the day loop reads :attr:`received` between days. A
    second signal raises :class:`Abandoned` unless :attr:`abandonable` was cleared (while the
    output folder is being replaced). Outside the main thread nothing is installed.
    """

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self.abandonable = True
        self._previous: dict[signal.Signals, object] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame) -> None:
        received = signal.Signals(signum)
        if self.received is None:
            self.received = received
            _say(
                f"\n{received.name}: stopping at the end of the simulated day under way to write what was "
                "simulated (send it again to abandon the run and write nothing)\n"
            )
        elif self.abandonable:
            raise Abandoned(received)

    @property
    def exit_status(self) -> int:
        """0, or 128 + the signal's number once one was received (130 for SIGINT, 143 for SIGTERM)."""
        return 0 if self.received is None else 128 + int(self.received)


# ------------------------------------------------------------------ the run


def _simulate(scenario, regime, seed, window, folder, stop, quiet, warn):
    """Run day by day into ``folder`` until the end or a signal; the model, its metrics stream and the stop if any."""
    from tqdm import tqdm

    from citysim.events import ParquetSink, TeeSink
    from citysim.metrics.stream import MetricsStream
    from citysim.model import CityModel

    tqdm.set_lock(threading.RLock())  # not the default multiprocessing lock: a semaphore a kill would leak
    started = time.perf_counter()
    stream = MetricsStream.for_scenario(scenario, window)
    model = CityModel(scenario, regime, seed=seed, window=window, sink=TeeSink(ParquetSink(folder), stream))
    total = window.total_days
    bar = tqdm(total=total, unit="day", desc=f"{scenario.name} / {regime.name}", disable=quiet, file=sys.stderr)
    try:
        while model.day < total and stop.received is None:
            model.step()
            bar.update(1)
            elapsed = time.perf_counter() - started
            bar.set_postfix(
                period=window.period_of_day(model.day - 1),
                incidents=f"{model.counts['incidents']:,}",
                per_s=f"{model.counts['incidents'] / max(elapsed, 1e-9):,.0f}",
            )
    finally:
        bar.close()
    if model.day >= total:
        model.finish()
        return model, stream, None
    warn(f"{stop.received.name}: stopped after {model.day} of {total} simulated days; writing what was simulated")
    stopped = Stop(stop.received.name, window, model.day)
    model.cut()
    return model, stream, stopped


def run_to_folder(
    scenario: Scenario,
    regime: Regime,
    seed: int,
    window: Window,
    out: Path,
    figures: bool = True,
    quiet: bool = False,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> int:
    """Simulate a run and write its folder ``out`` whole; print its summary. Returns the exit status.

    Args:
        scenario, regime, seed, window: the run.
        out: the output folder, replaced when the run ends (see the module's description).
        figures: draw the figures.
        quiet: no progress bar.
        say: prints a line of the summary (stdout).
        warn: prints a line about the run (stderr).

    Returns:
        0, or 130 / 143 when SIGINT / SIGTERM stopped or abandoned the run.

    Raises:
        OptionError: ``out`` cannot be used (not a citysim run's folder, not writable, in use).
    """
    from citysim.events import FolderTables
    from citysim.metrics.folder import stream_of_folder
    from citysim.simulation import Result

    check_output_folder(out)
    writable_folder(out, "--out")
    staging = Staging(out)
    started = time.perf_counter()
    with StopSignals() as stop:
        staging.begin()
        try:
            model, stream, stopped = _simulate(scenario, regime, seed, window, staging.path, stop, quiet, warn)
            result = None
            if model.window is None:
                for table in staging.path.glob("*.parquet"):  # none is begun before the window; never leave one
                    table.unlink()
                write_unmeasured(staging.path, scenario, regime, seed, stopped)
            else:
                tables = FolderTables(staging.path)  # written as the run went; metrics come from the stream
                if stopped is not None:  # counted before the cut at the old horizon: recount for the cut window
                    stream = stream_of_folder(staging.path, scenario, model.window)
                result = Result(scenario, regime, seed, model.window, tables, stream=stream, stopped=stopped)
                write_outputs(result, staging.path, figures=figures)
            stop.abandonable = False
            staging.commit()
        except Abandoned as again:
            stop.abandonable = False
            staging.discard()
            warn(f"{again.signal.name} after {stop.received.name}: run abandoned, nothing written; {out}/ is as it was")
            return 128 + int(again.signal)
        except BaseException:
            stop.abandonable = False
            staging.discard()
            raise
    wall = time.perf_counter() - started
    if result is None:
        say(stopped.describe())
        say(f"outputs in {out}/: run.toml and metrics.json say so; no tables")
    else:
        for line in summary_lines(result):
            say(line)
        n = model.counts["incidents"]
        marked = " (stopped early: run.toml and metrics.json say so)" if stopped is not None else ""
        say(f"\n{n:,} incidents in {wall:.1f} s ({n / max(wall, 1e-9):,.0f} per second); outputs in {out}/{marked}")
    if stop.received is not None and stopped is None:
        warn(f"{stop.received.name} came after the last simulated day: the run is complete")
    return stop.exit_status
