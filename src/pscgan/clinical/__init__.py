"""Clinical quantification: scar size and ratio, AHA-segment localisation, transmurality, and the
agreement statistics used to compare a method with a reference (paper section 6.5, Table 2)."""

from __future__ import annotations
