"""Late hand-ins: a due date (``--due``, or a roster's ``due`` column for one student's
extension) and a penalty rule (``--late-penalty 10%/day``), applied to when the hand-in's
files were last changed (their modification times, as the LMS's download keeps them).

A late hand-in loses the rule's percentage of its score for every day (or hour) begun
after the due date, down to 0. The exercises' own scores stay as graded; the student's
score carries the penalty, and the gradebook says how late and how much.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tutor.batch.roster import RosterEntry
from tutor.errors import UsageError

_RULE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*/\s*(day|hour)\s*")
_UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class LateRule:
    """``percent`` of the score lost per ``unit`` begun after the due date."""

    percent: float
    unit: str

    def penalty(self, late: timedelta) -> tuple[int, float]:
        """How many units late (begun), and the share of the score lost (0 to 1)."""
        if late <= timedelta(0):
            return 0, 0.0
        units = math.ceil(late / _UNITS[self.unit])
        return units, min(1.0, units * self.percent / 100)


def parse_rule(text: str) -> LateRule:
    """``10%/day`` or ``2%/hour``; a :class:`UsageError` otherwise."""
    match = _RULE.fullmatch(text)
    if not match:
        raise UsageError(f"--late-penalty {text!r}: write a percentage per day or hour, such as 10%/day")
    return LateRule(float(match.group(1)), match.group(2))


def parse_due(text: str, where: str = "--due") -> datetime:
    """An ISO 8601 date or date and time; a date alone means the end of that day, a time
    without a zone this machine's local time."""
    try:
        if len(text.strip()) == 10:
            moment = datetime.combine(date.fromisoformat(text.strip()), time(23, 59, 59))
        else:
            moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{where}: {text!r} is not a date (write 2026-12-01 or 2026-12-01T23:59)") from None
    return moment if moment.tzinfo else moment.astimezone()


@dataclass(frozen=True)
class Lateness:
    """How late one student's hand-in was, and what it cost."""

    submitted: datetime
    due: datetime
    units: int
    unit: str
    penalty: float

    def to_json(self) -> dict[str, object]:
        return {"submitted": self.submitted.isoformat(timespec="seconds"), "due": self.due.isoformat(timespec="seconds"),
                f"{self.unit}s_late": self.units, "penalty": self.penalty}


def lateness(submitted: float | None, due: datetime | None, rule: LateRule | None) -> Lateness | None:
    """The lateness of a hand-in last changed at ``submitted`` (seconds since the epoch),
    or ``None`` when there is no due date, no file, or it was on time."""
    if submitted is None or due is None:
        return None
    moment = datetime.fromtimestamp(submitted).astimezone()
    unit = rule.unit if rule else "day"
    units, penalty = (rule or LateRule(0.0, "day")).penalty(moment - due)
    return Lateness(moment, due, units, unit, penalty) if units else None


def roster_dues(roster: list[RosterEntry] | None) -> dict[str, datetime]:
    """Each roster student's own due date (its ``due`` column), by folder."""
    return {entry.folder: parse_due(entry.columns["due"], f"the roster's due date of {entry.folder}")
            for entry in roster or [] if entry.columns.get("due")}
