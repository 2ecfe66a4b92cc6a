"""The levers as a teacher sees them: their controls and their values in plain language.

Everything here is read from :class:`citysim.regimes.Regime` (one source of
truth): a lever's name is its label, the control follows its type and bounds,
and the plain-language sentence for a value is the part of the field's
description about that value. What the schema does not hold is the Chinese
term a class will meet in the literature, kept in :data:`CHINESE_TERMS`.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass

from annotated_types import Ge, Gt, Le

from citysim.regimes import LEVERS, Regime, presets

__all__ = ["CHINESE_TERMS", "LeverControl", "lever_controls", "plain_value"]

CHINESE_TERMS: dict[str, tuple[str, str]] = {
    "intake": ("一网通办 / 接诉即办", "one window for every request / answer as soon as called"),
    "sensor_fusion": ("一网统管", "one network runs the city"),
    "data_sharing": ("数据共享", "data sharing"),
    "data_approval_delay_h": ("数据调用审批", "approval to use another department's data"),
    "coordination": ("吹哨报到", "the street blows the whistle, departments report"),
    "coordination_meeting_interval_h": ("联席会议", "joint meetings"),
    "dispatch_level": ("三级贯通", "three-level centres: city, district, street"),
    "field_force": ("网格员", "grid workers"),
    "proactive_share": ("未诉先办", "act before anyone calls"),
    "closure_supervision": ("回访督办", "call-back and supervision"),
    "offline_channels": ("线下渠道", "in-person channels"),
    "elderly_friendly_design": ("适老化", "elderly-friendly channels"),
    "paperwork_share": ("基层减负", "less paperwork at the grassroots"),
    "staff_digital_skill": ("数字素养", "staff digital skills"),
}
"""Each lever's Chinese policy term and its English gloss."""


@dataclass(frozen=True)
class LeverControl:
    """How a lever is set on the page.

    Attributes:
        name: the lever (its label everywhere).
        kind: ``"choice"`` (a select), ``"switch"`` (a yes/no lever) or ``"number"`` (a slider).
        choices: the allowed values of a choice.
        low, high, step: a slider's range (the schema's bounds; an open upper bound is twice
            the largest preset value).
        help: the field's description.
    """

    name: str
    kind: str
    choices: tuple[str, ...] = ()
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    help: str = ""


def _bounds(name: str) -> tuple[float, float]:
    low, high = 0.0, math.inf
    for rule in Regime.model_fields[name].metadata:
        if isinstance(rule, Ge | Gt):
            low = float(getattr(rule, "ge", getattr(rule, "gt", 0.0)))
        elif isinstance(rule, Le):
            high = float(rule.le)
    largest = max(float(getattr(p, name)) for p in presets().values())
    if high > 4 * largest:  # a bound that only guards against typos (ten years): twice the largest preset
        high = 2 * largest
    return low, high


def lever_controls() -> list[LeverControl]:
    """A control per lever, in the schema's order."""
    out = []
    for name in LEVERS:
        field = Regime.model_fields[name]
        help_text = field.description or ""
        if typing.get_origin(field.annotation) is typing.Literal:
            out.append(LeverControl(name, "choice", choices=typing.get_args(field.annotation), help=help_text))
        elif field.annotation is bool:
            out.append(LeverControl(name, "switch", help=help_text))
        else:
            low, high = _bounds(name)
            step = 0.01 if high <= 1 else (1.0 if high <= 200 else 4.0)
            out.append(LeverControl(name, "number", low=low, high=high, step=step, help=help_text))
    return out


def plain_value(regime: Regime, name: str) -> str:
    """A lever's value in plain language: the description's clause for a choice, else value and description."""
    value = getattr(regime, name)
    text = Regime.model_fields[name].description or ""
    if isinstance(value, str):
        for clause in text.split("; "):
            if clause.startswith(f"{value}:"):
                return clause[len(value) + 1 :].strip()
        return f"{value} ({text})"
    if isinstance(value, bool):
        return f"{'yes' if value else 'no'}: {text}"
    return f"{value:g}: {text}"
