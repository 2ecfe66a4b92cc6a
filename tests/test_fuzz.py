"""Fuzzing the scenario files: whatever is wrong with one, citysim answers with one line, never a traceback.

Mutants of ``scenarios/small.toml`` and of the common file it extends
(``scenarios/common/china_megacity.toml``), drawn from a fixed seed, each with one
fault: a key dropped or repeated, an unknown key, a value of the wrong type, a
number made negative, zero, huge, ``nan`` or ``inf``, the file cut short, bytes
that are not UTF-8. Every mutant goes through ``citysim check`` (in this process)
and some through ``citysim run --days 1`` (a subprocess each): each must exit 0 or
2, and with 2 print exactly one ``error:`` line. The test prints how many mutants
got past the TOML parser into validation and how many ran, so a fuzzer stuck at
the parser shows (and fails).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from citysim.cli import main

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "small.toml": (ROOT / "scenarios" / "small.toml").read_bytes(),
    "common/china_megacity.toml": (ROOT / "scenarios" / "common" / "china_megacity.toml").read_bytes(),
}
SEED = 20261126
CHECKED = 320
RUN = 30
KINDS = ("drop", "type", "negative", "zero", "huge", "nan", "inf", "unknown", "duplicate", "truncate", "bytes")
NUMBER = re.compile(rb"(?<![\w.\"-])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.\"])")
ASSIGNMENT = re.compile(rb"^\s*[A-Za-z0-9_\"-]+\s*=")
WRONG_TYPES = (b'"text"', b"true", b"[1, 2]", b"{ a = 1 }", b"1979-05-27")
HUGE = (b"1e308", b"9223372036854775807", b"1e12", b"123456789", b"-1e308")
PARSER = ("not valid TOML", "not UTF-8 text")


@dataclass
class Mutant:
    """One scenario (the two files) with one fault."""

    number: int
    file: str
    kind: str
    line: int
    files: dict[str, bytes]

    def write(self, folder: Path) -> Path:
        """Write both files into ``folder``; the town's path."""
        (folder / "common").mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (folder / name).write_bytes(data)
        return folder / "small.toml"

    def __str__(self) -> str:
        return f"mutant {self.number}: {self.kind} at {self.file} line {self.line + 1}"


def _code_end(line: bytes) -> int:
    """Where a line's comment starts (outside strings), or its end."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == ord('"'):
            quoted = not quoted
        elif ch == ord("#") and not quoted:
            return i
    return len(line)


def _mutate(rng: np.random.Generator, number: int) -> Mutant:
    name = str(rng.choice(list(FILES)))
    kind = str(rng.choice(KINDS))
    text = FILES[name]
    lines = text.split(b"\n")
    assigned = [i for i, line in enumerate(lines) if ASSIGNMENT.match(line)]
    numbered = [i for i in assigned if NUMBER.search(lines[i], lines[i].index(b"=") + 1, _code_end(lines[i]))]
    at = int(rng.choice(numbered if kind in ("negative", "zero", "huge", "nan", "inf") else assigned))
    line = lines[at]
    if kind == "truncate":
        at = 0
        text = text[: int(rng.integers(0, len(text)))]
    elif kind == "bytes":
        at, cut = 0, int(rng.integers(0, len(text)))
        text = text[:cut] + bytes(rng.choice([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\x80\x80"])) + text[cut:]
    else:
        if kind == "drop":
            lines[at] = b""
        elif kind == "duplicate":
            lines.insert(at, line)
        elif kind == "unknown":
            lines.insert(at, b"colour_of_the_sky = 4")
        elif kind == "type":
            lines[at] = line[: line.index(b"=") + 1] + b" " + bytes(rng.choice(WRONG_TYPES))
        else:
            start, end = line.index(b"=") + 1, _code_end(line)
            spans = [m.span() for m in NUMBER.finditer(line, start, end)]
            a, b = spans[int(rng.integers(len(spans)))]
            old = line[a:b]
            new = {
                "negative": old[1:] if old.startswith(b"-") else b"-" + old,
                "zero": b"0",
                "huge": bytes(rng.choice(HUGE)),
                "nan": b"nan",
                "inf": bytes(rng.choice([b"inf", b"-inf", b"+inf"])),
            }[kind]
            lines[at] = line[:a] + new + line[b:]
        text = b"\n".join(lines)
    return Mutant(number, name, kind, at, {**FILES, name: text})


@pytest.fixture(scope="module")
def mutants() -> list[Mutant]:
    rng = np.random.default_rng(SEED)
    return [_mutate(rng, k) for k in range(CHECKED)]


def _one_error_line(stderr: str, what: Mutant) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{what}: stderr was {stderr!r}"
    assert "Traceback" not in stderr, f"{what}: {stderr}"
    return lines[0]


def test_fuzzed_scenarios_get_one_line_never_a_traceback(mutants, tmp_path, capsys):
    started = time.perf_counter()
    runner = CliRunner()
    outcome: dict[str, list[Mutant]] = {"parser": [], "refused": [], "valid": []}
    for mutant in mutants:
        town = mutant.write(tmp_path / "check")
        result = runner.invoke(main, ["check", str(town)])
        assert result.exit_code in (0, 2), f"{mutant}: exit {result.exit_code}: {result.exception!r}"
        assert isinstance(result.exception, SystemExit | None), f"{mutant}: {result.exception!r}"
        if result.exit_code == 0:
            outcome["valid"].append(mutant)
        else:
            line = _one_error_line(result.stderr, mutant)
            outcome["parser" if any(p in line for p in PARSER) else "refused"].append(mutant)
    checked_s = time.perf_counter() - started

    # runs: the valid mutants first (they are what can crash a run), then refused ones
    chosen = (outcome["valid"] + outcome["refused"])[:RUN]
    ran = _run_all(chosen, tmp_path)
    reached = len(outcome["refused"]) + len(outcome["valid"])
    with capsys.disabled():
        print(
            f"\nfuzz: {len(mutants)} mutants through citysim check in {checked_s:.1f} s: "
            f"{reached} reached validation ({len(outcome['valid'])} valid, {len(outcome['refused'])} refused), "
            f"{len(outcome['parser'])} stopped at the TOML parser; {len(chosen)} through citysim run --days 1: "
            f"{ran} ran to the end; {time.perf_counter() - started:.1f} s in all"
        )
    assert reached >= 0.6 * len(mutants), "most mutants must get past the parser"
    assert ran >= RUN // 3, "valid mutants must run"


def _run_all(chosen: list[Mutant], tmp_path: Path) -> int:
    """Run each mutant through ``citysim run --days 1`` in a subprocess, two at a time; how many ran (exit 0)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    waiting = list(chosen)
    running: list[tuple[Mutant, subprocess.Popen, float]] = []
    ran = 0
    while waiting or running:
        while waiting and len(running) < max(2, min(os.cpu_count() or 1, 4)):
            mutant = waiting.pop(0)
            folder = tmp_path / f"run{mutant.number}"
            town = mutant.write(folder)
            command = [sys.executable, "-m", "citysim", "run", str(town), "--days", "1", "--warmup-days", "0"]
            command += ["--follow-up-days", "0", "--out", str(folder / "out"), "--quiet", "--no-figures"]
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            running.append((mutant, proc, time.perf_counter()))
        mutant, proc, since = running.pop(0)
        try:
            _, stderr = proc.communicate(timeout=max(1.0, 120 - (time.perf_counter() - since)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"{mutant}: citysim run --days 1 took over 120 s")
        assert proc.returncode in (0, 2), f"{mutant}: exit {proc.returncode}: {stderr}"
        if proc.returncode == 2:
            _one_error_line(stderr, mutant)
        else:
            assert "Traceback" not in stderr and "error" not in stderr.lower(), f"{mutant}: {stderr}"
            ran += 1
    return ran
