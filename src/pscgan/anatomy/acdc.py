"""The ACDC ED/ES folder (``acdc-edes`` layout, see its README): patients, groups, and the fixed split.

The split is by patient, fixed, and balanced over the five ACDC groups: patients whose number is 1 more
than a multiple of 5 (001, 006, ..., 096; 4 per group, 20 in all) are the validation patients; the other
60 are for training. (ACDC's multiples of 5 are not in the folder at all: held out by its provider.)
The data are CC BY-NC-SA 4.0: weights trained on them carry that licence (:data:`LICENCE`).

Example:
    >>> is_validation("patient006"), is_validation("patient007")
    (True, False)
"""

from __future__ import annotations

import json
from pathlib import Path

from pscgan.errors import InputError

LICENCE = ("CC BY-NC-SA 4.0: trained on ACDC data (Bernard et al., IEEE TMI 37(11):2514-2525, 2018, "
           "doi:10.1109/TMI.2018.2837502); non-commercial use only, share alike")


def is_validation(patient: str) -> bool:
    """Whether ``patientNNN`` is one of the fixed validation patients."""
    digits = "".join(ch for ch in patient if ch.isdigit())
    return bool(digits) and int(digits) % 5 == 1


def read_patients(root: str | Path) -> dict[str, str]:
    """Patient folder name -> ACDC group (DCM, HCM, MINF, NOR, RV), from the folder's ``dataset.json``.

    Raises:
        InputError: naming the file when it is missing or not the ``acdc-edes`` manifest.
    """
    path = Path(root) / "dataset.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        groups = {str(p["id"]): str(p["group"]) for p in manifest["patients"]}
        return {str(s): groups[str(s)] for s in manifest["subjects"]}
    except FileNotFoundError:
        raise InputError(path, "not found: is this the ACDC ED/ES folder?") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(path, f"not an ACDC ED/ES manifest (needs 'subjects' and 'patients' with "
                               f"'id' and 'group'): {exc}") from None


def split_patients(root: str | Path) -> dict[str, list[str]]:
    """``{"train": [...], "validation": [...]}`` of the patients in the folder."""
    patients = sorted(read_patients(root))
    return {"train": [p for p in patients if not is_validation(p)],
            "validation": [p for p in patients if is_validation(p)]}
