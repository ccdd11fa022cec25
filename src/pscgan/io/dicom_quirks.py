"""Rule breaks of real scanner DICOM that pscgan tolerates knowingly, and says so once in plain words.

Files as scanners and archives export them often break DICOM rules in ways that do not affect the images:

* **UIDs that do not follow the DICOM rules**: a component starting with ``0`` (``1.2.840.05``), a
  character other than digits and dots, or more than 64 characters. pydicom warns about every such value
  it meets, which makes hundreds of lines for one cine. While pscgan reads a series or writes outputs
  derived from it, :func:`quiet_uid_warnings` silences exactly these warnings (and only there);
  :func:`has_invalid_uid` lets the reader count the files instead, and :func:`invalid_uid_note` reports
  them in one line. The UIDs are kept as they are: the outputs reference the source images by them.
* **Several FrameOfReferenceUIDs in one series** (DICOM wants one per series; some anonymisers replace
  the UID file by file): :func:`series_frame_of_reference` picks one for the outputs, which must share
  one, and :func:`frame_of_reference_note` says so.

Example:
    >>> is_valid_uid("1.2.840.10008.5.1.4.1.1.4"), is_valid_uid("2.16.124.05")
    (True, False)
    >>> invalid_uid_note(240).split(" (")[0]
    '240 source files have UIDs that do not follow DICOM rules'
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

#: A valid UID (PS3.5 section 9.1): numeric components without leading zeros, at most 64 characters.
_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
MAX_UID_LENGTH = 64
#: pydicom's messages about a UI value (pydicom 2.x and 3.x): the invalid-value and the too-long warning.
_PYDICOM_UID_MESSAGE = (r"(Invalid value for VR UI"
                        r"|The value length \(\d+\) exceeds the maximum length of 64 allowed for VR UI)")
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # never walked: the pixel data may be deferred


def is_valid_uid(value: Any) -> bool:
    """Whether ``value`` is a UID as DICOM defines it."""
    text = str(value)
    return len(text) <= MAX_UID_LENGTH and _UID.match(text) is not None


def _uids(ds: Any) -> Iterator[str]:
    """Every UI value of ``ds``, its file meta and its sequences (the pixel data is not touched).

    Elements that cannot be decoded (damaged nested items the images do not need) are passed over.
    """
    meta = getattr(ds, "file_meta", None)
    for dataset in ((meta,) if meta is not None else ()) + (ds,):
        for tag in list(dataset.keys()):
            if tag in _PIXEL_TAGS:
                continue
            try:
                elem = dataset[tag]
                value: Any = elem.value if elem.VR in ("UI", "SQ") else None
                values = list(value) if elem.VR == "SQ" or elem.VM > 1 else [value]
            except Exception:  # pydicom raises many kinds on damaged data; the reader checks what it uses
                continue
            if elem.VR == "UI":
                yield from (str(v) for v in values if v not in (None, ""))
            elif elem.VR == "SQ":
                for item in values:
                    yield from _uids(item)


def has_invalid_uid(ds: Any) -> bool:
    """Whether any UID of the (header of the) dataset breaks the DICOM rules; call it inside
    :func:`quiet_uid_warnings`, since decoding the values makes pydicom warn."""
    return any(not is_valid_uid(uid) for uid in _uids(ds))


def invalid_uid_note(n_files: int) -> str:
    """The one-line report of ``n_files`` source files with invalid UIDs."""
    files = "file has" if n_files == 1 else "files have"
    return (f"{n_files} source {files} UIDs that do not follow DICOM rules (e.g. a component starts with 0); "
            "they are read as they are")


class _DropUidMessages(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return re.match(_PYDICOM_UID_MESSAGE, record.getMessage()) is None


@contextmanager
def quiet_uid_warnings() -> Iterator[None]:
    """Silence pydicom's warnings and log records about invalid UI values inside the block only.

    Every other warning passes; the filters are removed when the block ends, so the caller's own use of
    pydicom still sees them. (``warnings.catch_warnings`` is process-wide while the block runs.)
    """
    logger = logging.getLogger("pydicom")  # pydicom logs each warning too
    drop = _DropUidMessages()
    logger.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_PYDICOM_UID_MESSAGE, category=UserWarning)
            yield
    finally:
        logger.removeFilter(drop)


def series_frame_of_reference(values: Sequence[str | None]) -> tuple[str | None, int]:
    """The FrameOfReferenceUID the outputs of one series use, and how many distinct ones the files carry.

    Args:
        values: each file's FrameOfReferenceUID (None where absent), in slice and phase order.

    Returns:
        The most frequent UID (ties: the first in order; None when no file has one) and the number of
        distinct UIDs.
    """
    counts = Counter(v for v in values if v)
    if not counts:
        return None, 0
    most = max(counts.values())
    chosen = next(v for v in values if v and counts[v] == most)
    return chosen, len(counts)


def frame_of_reference_note(n_files: int, n_distinct: int) -> str:
    """The one-line report of a series whose files carry several FrameOfReferenceUIDs."""
    return (f"the series' {n_files} files carry {n_distinct} different FrameOfReferenceUIDs (DICOM wants one "
            "per series); the outputs use the most frequent one, the first slice's in a tie")
