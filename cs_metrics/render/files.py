"""Writing reports safely: atomic files and the spreadsheet formula guard.

cron's reader must never see half a report, so every file is written to a
temporary file beside the target, flushed to disk, then renamed over it
(`os.replace` is atomic on one file system). Spreadsheet apps run text that
starts with `=`, `+`, `-`, `@` (or a tab / CR before one) as a formula, so
text cells in CSV and XLSX are prefixed with an apostrophe.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder, fsync, then rename.

    On any failure (including KeyboardInterrupt) the temp file is removed and
    the previous `path`, if any, is left exactly as it was.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            try:  # keep the target's permissions, not mkstemp's 0600
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            except OSError:
                pass
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def neutralise(text: str) -> str:
    """Prefix "'" to text a spreadsheet would run as a formula.

    Only for text cells: numbers are written as numbers, so a negative
    change is never touched. A text like "-5" is still prefixed, because it
    is text (an id or a name), not a number we wrote.
    """
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
