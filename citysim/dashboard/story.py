"""An incident told through its stages, and the clock, in words a class can follow."""

from __future__ import annotations

import math
from html import escape

from citysim.dashboard.tally import Story

__all__ = ["clock", "story_html", "story_steps"]

_INTAKE = ("intake", "verify")


def clock(minute: float) -> str:
    """A simulated time as ``day 3, 08:15`` (days counted from 1)."""
    if minute is None or math.isnan(minute):
        return "–"
    day, rest = divmod(int(minute), 1440)
    return f"day {day + 1}, {rest // 60:02d}:{rest % 60:02d}"


def _after(story: Story, minute: float) -> str:
    took = minute - story.occurred_at
    return f"{took:.0f} min" if took < 120 else f"{took / 60:.1f} h"


def story_steps(story: Story, now: float) -> list[tuple[str, bool, str]]:
    """The stages of an incident: (stage, reached, what happened) in order of its life."""
    done = lambda t: t is not None and not math.isnan(t) and t <= now  # noqa: E731
    when = lambda t: f"{clock(t)} (+{_after(story, t)})"  # noqa: E731
    units = [(stage, unit) for stage, unit, *_ in story.stages]
    intake_unit = next((u for s, u in units if s in _INTAKE), None)
    transfer_units = [u for s, u in units if s == "transfer"]
    field_unit = next((u for s, u in units if s == "travel"), None)
    steps = [
        (
            "occurred",
            True,
            f"{clock(story.occurred_at)}: {story.type} in {story.district}, street {story.street}, "
            f"cell {story.cell} ({story.cohort})",
        ),
        (
            "detected",
            done(story.detected_at),
            f"{when(story.detected_at)} by {story.detected_by} through {story.channel}"
            if done(story.detected_at)
            else "not yet found",
        ),
        (
            "taken in",
            done(story.intake_at),
            f"{when(story.intake_at)} at {intake_unit or 'the platform (automatic work order)'}"
            if done(story.intake_at)
            else "waiting",
        ),
        (
            "routed",
            done(story.intake_at),
            f"{story.transfers} transfer{'s' if story.transfers != 1 else ''}"
            + (f" (to {', '.join(transfer_units)})" if transfer_units else ""),
        ),
        (
            "dispatched",
            done(story.dispatched_at),
            f"{when(story.dispatched_at)} at {story.level} level to {field_unit}"
            if done(story.dispatched_at)
            else "not yet",
        ),
        ("on site", done(story.arrived_at), when(story.arrived_at) if done(story.arrived_at) else "not yet"),
    ]
    if done(story.harmed_at):
        steps.append(("harmed", True, f"{when(story.harmed_at)}: turned into harm before anyone arrived"))
    if done(story.resolved_at):
        unmet = " (closed, need not met)" if story.closed_unmet else ""
        steps.append(("resolved", True, f"{when(story.resolved_at)}{unmet}"))
    elif not done(story.harmed_at):
        due = story.harm_due_at
        warn = f"; harm due {clock(due)}" if due is not None and not math.isnan(due) else ""
        steps.append(("resolved", False, f"open{warn}"))
    return steps


def story_html(story: Story | None, now: float, side: str) -> str:
    """The incident of the moment, stage by stage (reached stages ticked)."""
    if story is None:
        return f'<div class="citysim-story" data-side="{side}"><i>no notable incident in the last day</i></div>'
    rows = "".join(
        f'<tr data-stage="{escape(stage)}" data-reached="{int(reached)}"><td>{"✔" if reached else "·"}</td>'
        f"<td><b>{escape(stage)}</b></td><td>{escape(text)}</td></tr>"
        for stage, reached, text in story_steps(story, now)
    )
    return (
        f'<div class="citysim-story" data-side="{side}" data-incident="{story.id}">'
        f"<b>incident {story.id}: {escape(story.type)}</b> (severity {story.severity})"
        f'<table class="citysim-table">{rows}</table></div>'
    )
