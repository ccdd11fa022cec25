"""Reading a JSON file a user may have handed over: any content ends in a value or one InputError line.

``json.loads`` raises a RecursionError on JSON nested a hundred thousand deep, a UnicodeDecodeError on
bytes that are not UTF-8, and an OSError on a folder; :func:`read_json` turns every one of them into an
:class:`~pscgan.errors.InputError` naming the file, and checks the top-level type the caller expects.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = p.write_text("[" * 100_000 + "]" * 100_000)
    >>> read_json(p)
    Traceback (most recent call last):
    ...
    pscgan.errors.InputError: ...a.json: not valid JSON (nested too deeply)
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pscgan.errors import InputError

#: Larger JSON files than this are refused unread (pscgan's own are a few MB at most).
MAX_JSON_BYTES = 256 * 2**20
#: No number in pscgan's own JSON comes near this: larger ones are refused before anything sums them.
MAX_NUMBER = 1e12
_TYPE_NAMES: dict[type, str] = {dict: "an object", list: "an array"}


def read_json(path: str | Path, *, expect: type | None = None, what: str = "JSON file") -> Any:
    """The parsed content of ``path``.

    Args:
        expect: ``dict`` or ``list``: the top-level value must be of this type.
        what: how the error names the file's role (e.g. ``"run split"``).

    Raises:
        InputError: missing, unreadable, too large, not UTF-8, not JSON, nested too deeply, or of the
            wrong top-level type.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(path, f"is a folder, not a {what}")
    if not path.is_file():
        raise InputError(path, f"{what} not found")
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise InputError(path, f"{what} larger than {MAX_JSON_BYTES // 2**20} MiB; refused unread")
        text = path.read_bytes().decode("utf-8")
        value = json.loads(text)
    except OSError as exc:
        raise InputError(path, f"cannot read the {what} ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(path, "not valid JSON (not UTF-8 text)") from None
    except RecursionError:
        raise InputError(path, "not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError, and numbers too long to convert
        raise InputError(path, f"not valid JSON ({exc})") from None
    if expect is not None and not isinstance(value, expect):
        raise InputError(path, f"the {what} must hold {_TYPE_NAMES.get(expect, expect.__name__)}, "
                               f"not {type(value).__name__}")
    return value


def non_finite(value: Any, where: str = "") -> str | None:
    """The first number in a parsed JSON value that is NaN, infinite or beyond :data:`MAX_NUMBER` (its
    field and value), or ``None``. JSON from Python may hold ``NaN``; pscgan never writes it."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, bool) or v is None or isinstance(v, str):
            continue
        if isinstance(v, (int, float)):
            # an int may be too large for a float: compare it as it is
            if (isinstance(v, float) and not math.isfinite(v)) or abs(v) > MAX_NUMBER:
                return f"field {path.lstrip('.') or '(top level)'}: {v!r} is not a finite number within " \
                       f"+-{MAX_NUMBER:g}"
        elif isinstance(v, dict):
            stack.extend((f"{path}.{k}", x) for k, x in reversed(list(v.items())))
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", x) for i, x in reversed(list(enumerate(v))))
    return None


def validation_problem(exc: Any) -> str:
    """The first error of a pydantic report as one line: ``field a.b[0].c: what is wrong`` (and how many
    more there are)."""
    errors = exc.errors()
    first = errors[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"field {where or '(top level)'}: {first['msg']}{more}"
