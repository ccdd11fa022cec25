from __future__ import annotations

import numpy as np
import pytest

from pscgan.labels import LABEL_NAMES, LabelEncoding, Tissue, from_emidec, to_pscgan


def test_emidec_mapping_merges_no_reflow_into_scar():
    assert from_emidec(np.array([0, 1, 2, 3, 4])).tolist() == [0, 1, 2, 3, 3]


def test_emidec_out_of_range_is_refused():
    with pytest.raises(ValueError, match="0..4"):
        from_emidec(np.array([0, 5]))


def test_to_pscgan_checks_values():
    assert to_pscgan(np.array([0.0, 3.0]), LabelEncoding.PSCGAN).dtype == np.uint8
    with pytest.raises(ValueError):
        to_pscgan(np.array([0, 4]), "pscgan")
    with pytest.raises(ValueError):
        to_pscgan(np.array([0.5]), "pscgan")


def test_label_names_match_enum():
    assert sorted(LABEL_NAMES.values()) == [t.value for t in Tissue]
    assert Tissue.SCAR.display_name == "scar"
