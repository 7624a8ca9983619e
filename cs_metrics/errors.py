"""Problems as data: where they are, what they are, and how the CLI exits on them.

Every stage collects `Issue`s instead of raising on the first problem; fatal
problems are raised once, as a `CsmError` carrying all the issues of the stage.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Exit statuses of SPEC §5."""

    OK = 0
    DATA_ERROR = 1  # unreadable input, missing required column
    USAGE_ERROR = 2  # bad option, config that does not validate
    ALERT = 3  # a --fail-on rule matched


@dataclass(frozen=True)
class Location:
    """Where a problem is, printed the way a user sees it.

    Spreadsheet row numbers: the header is row 1 of a plain CSV; title rows
    above the header count too, so `row` is what Excel shows.
    """

    file: str | None = None
    row: int | None = None
    column: str | None = None
    line: int | None = None  # config files
    key: str | None = None  # config key path, e.g. health.groups.adoption.weight

    def __str__(self) -> str:
        if self.key is not None:
            where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "config")
            return f"{where}: {self.key}"
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


@dataclass
class Issue:
    """One problem. `code` is a stable kebab-case id (see docs/issue-codes.md)."""

    code: str
    message: str
    level: str = "warning"  # "error" | "warning" | "info"
    dataset: str | None = None
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    key: str | None = None  # config key path
    line: int | None = None  # config line

    @property
    def location(self) -> Location:
        return Location(self.file, self.row, self.column, self.line, self.key)

    def to_dict(self) -> dict[str, Any]:
        """JSON form used in `data_quality.issues` (SPEC §5)."""
        d = asdict(self)
        if d["key"] is None:
            d.pop("key")
            d.pop("line")
        return d

    def __str__(self) -> str:
        loc = str(self.location)
        val = f" (value {self.value!r})" if self.value is not None else ""
        return f"{loc}: {self.message}{val}" if loc else f"{self.message}{val}"


class CsmError(Exception):
    """A fatal problem. Carries every issue of the failing stage and an exit code."""

    exit_code: ExitCode = ExitCode.DATA_ERROR

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues: list[Issue] = list(issues or [])


class InputError(CsmError):
    """Unreadable file, missing required column, unknown currency... (exit 1)."""

    exit_code = ExitCode.DATA_ERROR


class ConfigError(CsmError):
    """A config file that does not validate (exit 2)."""

    exit_code = ExitCode.USAGE_ERROR


class UsageError(CsmError):
    """Bad command-line usage (exit 2)."""

    exit_code = ExitCode.USAGE_ERROR


@dataclass
class IssueLog:
    """Collects row issues during loading; cheap to append to in bulk."""

    issues: list[Issue] = field(default_factory=list)

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    def extend(self, issues: list[Issue]) -> None:
        self.issues.extend(issues)


def did_you_mean(name: str, valid: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest of `valid`, else '': the hint every message uses."""
    import difflib

    m = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return f" (did you mean {m[0]!r}?)" if m else ""


def format_issues(issues: list[Issue], limit: int = 20) -> str:
    """The first `limit` issues, one per line, then '…and N more'."""
    lines = [f"- {i}" for i in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"…and {len(issues) - limit} more")
    return "\n".join(lines)
