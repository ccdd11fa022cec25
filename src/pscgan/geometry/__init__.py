"""Short-axis LV geometry on 2D label maps: LV centre and polar coordinates, AHA 16-segment model,
coronary territories, and ray-based wall thickness and scar transmurality.

Every function works on any 2D label map in the pscgan encoding (0 other, 1 LV blood pool, 2 healthy
myocardium, 3 scar) in the display orientation ``[row, col]`` of :mod:`pscgan.data.layout`, with the
pixel spacing, the anterior RV insertion angle and the slice level: phantom truth, predicted maps and
expert labels alike.
"""

from __future__ import annotations

from pscgan.geometry.aha import (
    DEFAULT_TERRITORIES,
    LEVEL_SEGMENTS,
    SEGMENT_NAMES,
    Territory,
    segment_map,
    segment_means,
    segment_of_angle,
    segments_of_level,
    segments_of_territory,
    territory_of_segment,
)
from pscgan.geometry.polar import display_spacing, lv_center, polar_coordinates
from pscgan.geometry.rays import RayProfiles, cast_rays
from pscgan.geometry.thickness import (
    segment_thickening,
    segment_wall_thickness,
    segment_wall_thickness_from_labels,
)
from pscgan.geometry.transmurality import (
    DEFAULT_SCAR_FRACTION_THRESHOLD,
    SegmentScar,
    scar_positive_segments,
    segment_scar,
    segment_transmurality,
)

__all__ = [
    "DEFAULT_SCAR_FRACTION_THRESHOLD", "DEFAULT_TERRITORIES", "LEVEL_SEGMENTS", "SEGMENT_NAMES",
    "RayProfiles", "SegmentScar", "Territory", "cast_rays", "display_spacing", "lv_center",
    "polar_coordinates", "scar_positive_segments", "segment_map", "segment_means", "segment_of_angle",
    "segment_scar", "segment_thickening", "segment_transmurality", "segment_wall_thickness",
    "segment_wall_thickness_from_labels", "segments_of_level", "segments_of_territory",
    "territory_of_segment",
]
