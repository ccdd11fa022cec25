"""The predicted segmentation as a DICOM Segmentation object (highdicom), overlaying the source cine.

One BINARY SEG instance with three segments, numbered as the pscgan classes
(:class:`~pscgan.labels.Tissue`; class 0 "other" is the background and not a segment):

=====  ===================  ==================================  =======================================
 No.   Label                Category / type (SNOMED CT)          Why
=====  ===================  ==================================  =======================================
 1     LV blood pool        Body Substance 91720002 /            the class is the blood inside the LV
                            Blood 87612001, anatomic region      cavity (papillary muscles included),
                            Left ventricle 87878005              not the ventricle as an organ
 2     healthy myocardium   Anatomical Structure 91723000 /      the remote, non-enhancing LV wall
                            Left Ventricle Myocardium 49848007
 3     scar                 Morphologically Abnormal Structure   LGE hyperenhancement: fibrous (infarct)
                            49755003 / Scar 12402003, anatomic   scar within the LV myocardium
                            region Left Ventricle Myocardium
=====  ===================  ==================================  =======================================

All codes come from pydicom's SNOMED CT dictionary (``pydicom.sr.codedict.codes.SCT``). The segments are
flagged as AUTOMATIC, produced by the algorithm "pscgan" (family: artificial intelligence) at the package
version, and the instance carries ContentQualification RESEARCH.

Each frame references its source image (the cine image of the chosen phase at that slice), so viewers
such as 3D Slicer or OHIF overlay the segmentation on the loaded cine series. Frames where a segment is
empty are omitted (highdicom's default), which keeps files small; readers rebuild them as empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pscgan.labels import Tissue

#: SeriesNumber of the segmentation series (high, so that it sorts after the acquired series).
SEG_SERIES_NUMBER = 9902
SEG_SERIES_DESCRIPTION = "pscgan segmentation (research use, not for diagnosis)"

#: Display colours (RGB) matching the usual cardiac MR convention: blood pool red, myocardium green,
#: scar yellow.
_COLOURS = {Tissue.BLOOD_POOL: (220, 50, 50), Tissue.MYOCARDIUM: (60, 180, 75), Tissue.SCAR: (255, 225, 25)}


def segment_descriptions(version: str) -> list[Any]:
    """The three :class:`highdicom.seg.SegmentDescription` items, numbered as the pscgan classes.

    Example:
        >>> [d.SegmentLabel for d in segment_descriptions("0.1.0")]
        ['LV blood pool', 'healthy myocardium', 'scar']
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    algorithm = hd.AlgorithmIdentificationSequence(name="pscgan", family=codes.cid7162.ArtificialIntelligence,
                                                   version=version)
    sct = codes.SCT
    concepts = {
        Tissue.BLOOD_POOL: (sct.BodySubstance, sct.Blood, [sct.LeftVentricle]),
        Tissue.MYOCARDIUM: (sct.AnatomicalStructure, sct.LeftVentricleMyocardium, None),
        Tissue.SCAR: (sct.MorphologicallyAbnormalStructure, sct.Scar, [sct.LeftVentricleMyocardium]),
    }
    descriptions = []
    for tissue, (category, kind, regions) in concepts.items():
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=int(tissue), segment_label=tissue.display_name,
            segmented_property_category=category, segmented_property_type=kind,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=algorithm,
            anatomic_regions=regions, display_color=hd.color.CIELabColor.from_rgb(*_COLOURS[tissue])))
    return descriptions


def build_segmentation(references: Sequence[Any], segmentation: np.ndarray, *, version: str,
                       equipment: dict[str, Any]) -> Any:
    """Build the SEG instance for ``segmentation`` over the reference images.

    Args:
        references: one (pixel-less) header per slice, in slice order, already reduced to the attributes
            that may be written (see :func:`pscgan.inference.dicom_export.reference_header`); highdicom
            copies the patient and study modules from the first one.
        segmentation: ``(x, y, slice)`` uint8 label map, values 0..3.
        version: the pscgan version recorded as algorithm and software version.
        equipment: extra highdicom equipment arguments (``institution_name`` when identifiers are kept).

    Returns:
        A :class:`highdicom.seg.Segmentation` (a pydicom dataset), ready to save.
    """
    import highdicom as hd

    # highdicom wants (frame, rows, columns); frame k is the DICOM image of slice k, i.e. array[:, :, k].T.
    label_frames = np.ascontiguousarray(np.transpose(segmentation, (2, 1, 0)).astype(np.uint8))
    seg = hd.seg.Segmentation(
        source_images=list(references), pixel_array=label_frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=segment_descriptions(version),
        series_instance_uid=hd.UID(), series_number=SEG_SERIES_NUMBER, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="pscgan", manufacturer_model_name="pscgan", software_versions=version,
        device_serial_number="none", series_description=SEG_SERIES_DESCRIPTION,
        content_description="pscgan tissue classes", content_label="PSCGAN",
        content_qualification=hd.ContentQualificationValues.RESEARCH,
        # A label map without any foreground would leave no frame at all, which is not a valid SEG.
        omit_empty_frames=bool(np.any(label_frames)),
        **equipment)
    return seg
