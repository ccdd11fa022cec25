"""DICOM outputs of a prediction whose input was a DICOM cine series.

Two objects are written into a new folder, next to the NIfTI results::

    out_dir/
      synthetic_lge/IM_0001.dcm ...   derived MR image series, one image per slice
      segmentation.dcm                DICOM SEG (highdicom), 3 segments (see pscgan.inference.dicom_seg)

Both reference the cine images of one phase (end-diastole, phase 0, by default), found by SOPInstanceUID
in the folder the cine was read from, and copy their geometry (ImagePositionPatient,
ImageOrientationPatient, PixelSpacing, SliceThickness), so that viewers such as 3D Slicer or OHIF show the
synthetic LGE in the same study and overlay the segmentation on the cine. Every output carries the one
StudyInstanceUID and FrameOfReferenceUID the reader chose for the series, also where the source's files
disagree (some anonymisers give each file its own; see :mod:`pscgan.io.dicom_quirks`): DICOM wants one
frame of reference per series, and highdicom refuses a SEG over images that differ. :func:`export_dicom`
writes both objects or neither; :func:`export_dicom_parts` writes each one that can be built.

The synthetic LGE is in relative units: stored as uint16 0..4095 with RescaleSlope 1/4095, so that
readers applying the rescale get the network's [0, 1] values back (to within 0.5/4095).

De-identification (the default): the written files are built from a whitelist of attributes, never by
copying a whole source header, so nothing identifying can slip through from private or unexpected tags.
PatientName and PatientID are set to ``ANONYMOUS``; birth date, sex, age, other patient ids, study date
and time, study id, accession number, referring physician, institution and station names are left out
(or empty where DICOM requires the attribute); PatientIdentityRemoved is ``YES`` with a
DeidentificationMethod and a DeidentificationMethodCodeSequence naming the DICOM PS3.15 Basic
Application Level Confidentiality Profile with its Retain UIDs Option. The StudyInstanceUID,
FrameOfReferenceUID and the source SOPInstanceUIDs are kept: without them the outputs would not land in
the source study nor overlay the cine. They identify the
examination only to someone holding the source data; remap UIDs with a dedicated de-identification tool
before sharing outputs and sources outside your institution. Series and content dates are those of the
export, not of the examination. ``keep_identifiers=True`` copies the patient, study and institution
attributes from the source instead (and its PatientIdentityRemoved, if any; dates that are no valid date
are left empty), so that the outputs file under the same patient in a PACS; :func:`source_identifiers`
returns them for the prediction's ``identifiers.json``.

Example:
    >>> from pscgan.io.dicom import read_dicom_series
    >>> cine = read_dicom_series("cine_folder", kind="cine")  # doctest: +SKIP
    >>> paths = export_dicom(cine, lge, labels, Path("out/dicom"))  # doctest: +SKIP
    >>> paths["segmentation"]  # doctest: +SKIP
    PosixPath('out/dicom/segmentation.dcm')
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes
from pydicom.uid import UID, ExplicitVRLittleEndian, MRImageStorage, generate_uid
from pydicom.valuerep import DS

from pscgan.errors import InputError, OutputExistsError
from pscgan.io.dicom_quirks import quiet_uid_warnings
from pscgan.io.image import ImageVolume
from pscgan.labels import to_pscgan

LGE_FOLDER = "synthetic_lge"
SEG_FILE = "segmentation.dcm"
LGE_SERIES_NUMBER = 9901
LGE_SERIES_DESCRIPTION = "pscgan synthetic LGE (research use, not for diagnosis)"
LGE_DERIVATION = ("Synthetic LGE-equivalent image computed by pscgan from the contrast-free cine; "
                  "relative units")
#: Stored values span 0..MAX_STORED (12 bits); RescaleSlope 1 / MAX_STORED maps them back to [0, 1].
MAX_STORED = 4095
#: Synthetic LGE values this far outside [0, 1] are an error; closer ones are clipped (float rounding).
RANGE_TOLERANCE = 1e-3
#: PatientName and PatientID of de-identified outputs (the trailing caret marks a family-name-only name).
PSEUDONYM_NAME, PSEUDONYM_ID = "ANONYMOUS^", "ANONYMOUS"
DEID_METHOD = ["pscgan whitelist: patient, study, institution ids removed",
               "UIDs kept: study, frame of reference, source images"]

#: Attributes copied from the source image whatever ``keep_identifiers`` says: geometry, UIDs that tie the
#: outputs to the source, and acquisition parameters that describe the cine the images derive from.
_KEPT = ("SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID",
         "Modality", "FrameOfReferenceUID", "PositionReferenceIndicator", "Rows", "Columns",
         "ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing", "SliceThickness",
         "SpacingBetweenSlices", "SliceLocation", "PatientPosition", "BodyPartExamined", "ScanningSequence",
         "SequenceVariant", "ScanOptions", "MRAcquisitionType", "RepetitionTime", "EchoTime",
         "EchoTrainLength", "FlipAngle", "ImagedNucleus", "MagneticFieldStrength", "TriggerTime",
         "NominalInterval", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated", "BitsStored",
         "HighBit", "PixelRepresentation")
#: Patient, study and institution attributes, copied only with ``keep_identifiers=True``.
_IDENTIFYING = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
                "PatientAge", "PatientSize", "PatientWeight", "OtherPatientIDs", "OtherPatientIDsSequence",
                "PatientIdentityRemoved", "DeidentificationMethod", "StudyDate", "StudyTime", "StudyID",
                "AccessionNumber", "ReferringPhysicianName", "StudyDescription", "InstitutionName",
                "InstitutionAddress", "InstitutionalDepartmentName", "StationName")
#: What ``identifiers.json`` holds with ``keep_identifiers``: who and which examination the outputs belong to.
_LINKING = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex", "PatientAge",
            "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "StudyDescription", "InstitutionName",
            "StudyInstanceUID", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription")
#: Type 2 attributes of the patient and study modules: present in every output, empty when unknown.
_TYPE2_EMPTY = ("PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID", "AccessionNumber",
                "ReferringPhysicianName")


def export_dicom(cine: ImageVolume, synthetic_lge: np.ndarray, segmentation: np.ndarray, out_dir: Path, *,
                 keep_identifiers: bool = False, phase: int = 0) -> dict[str, Path]:
    """Write the synthetic LGE as a derived MR series and the segmentation as a DICOM SEG.

    Args:
        cine: the cine as returned by :func:`pscgan.io.dicom.read_dicom_series` (``(x, y, slice, time)``,
            ``source`` the folder holding its files, which must still be in place).
        synthetic_lge: ``(x, y, slice)`` values in [0, 1] (relative units) in the cine's geometry.
        segmentation: ``(x, y, slice)`` labels 0..3 (0 other, 1 LV blood pool, 2 healthy myocardium,
            3 scar).
        out_dir: a new (or empty) folder; it appears only once everything is written.
        keep_identifiers: copy patient, study and institution identifiers from the source (default:
            de-identified, see the module docstring).
        phase: the cine phase whose images are referenced (0, end-diastole, by default).

    Returns:
        ``{"synthetic_lge": <series folder>, "segmentation": <SEG file>}``.

    Raises:
        ValueError: the arrays do not match the cine's spatial shape, hold values out of range, or the
            cine was not read from DICOM.
        InputError: a source image is missing, unreadable, or no longer matches the cine.
        OutputExistsError: ``out_dir`` exists and is not an empty folder.
    """
    with quiet_uid_warnings():  # the source's UIDs are copied as they are, valid or not
        lge, labels, refs = _prepare(cine, synthetic_lge, segmentation, out_dir, keep_identifiers, phase)
        images = _lge_images(refs, lge)
        seg = _segmentation(refs, labels, keep_identifiers)
        return _write_atomically(Path(out_dir), images, seg)


def export_dicom_parts(cine: ImageVolume, synthetic_lge: np.ndarray, segmentation: np.ndarray, out_dir: Path,
                       *, keep_identifiers: bool = False, phase: int = 0
                       ) -> tuple[dict[str, Path], dict[str, str]]:
    """Like :func:`export_dicom`, but the synthetic LGE series and the SEG succeed or fail on their own.

    A SEG that cannot be built (highdicom refuses what it cannot encode) leaves the derived MR series
    written, and the other way round. ``out_dir`` appears once what could be built is written, and not
    at all when nothing could.

    Returns:
        The paths written (keys as in :func:`export_dicom`) and, for each output that could not be built,
        ``{key: "<exception type>: <message>"}``.

    Raises:
        The errors of :func:`export_dicom` that concern both outputs: bad arrays, missing or changed
        source images, an existing ``out_dir``, a failed write.
    """
    with quiet_uid_warnings():
        lge, labels, refs = _prepare(cine, synthetic_lge, segmentation, out_dir, keep_identifiers, phase)
        images, seg, failures = None, None, {}
        try:
            images = _lge_images(refs, lge)
        except Exception as exc:  # an optional output: reported by the caller, never lost silently
            failures["synthetic_lge"] = f"{type(exc).__name__}: {exc}"
        try:
            seg = _segmentation(refs, labels, keep_identifiers)
        except Exception as exc:
            failures["segmentation"] = f"{type(exc).__name__}: {exc}"
        written = _write_atomically(Path(out_dir), images, seg) if images or seg is not None else {}
        return written, failures


def _prepare(cine: ImageVolume, synthetic_lge: np.ndarray, segmentation: np.ndarray, out_dir: Path,
             keep_identifiers: bool, phase: int) -> tuple[np.ndarray, np.ndarray, list[Dataset]]:
    """Checked arrays and the whitelisted source headers of ``phase``, one per slice."""
    lge, labels = _check_arrays(cine, synthetic_lge, segmentation, phase)
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise OutputExistsError(out_dir, "already exists and is not an empty folder; DICOM outputs are "
                                         "written into a new folder")
    sources = find_source_images(cine, phase)
    return lge, labels, _reference_headers(cine, sources, keep_identifiers)


def _lge_images(refs: list[Dataset], lge: np.ndarray) -> list[Dataset]:
    import pscgan

    series_uid, now = _new_uid(), datetime.now()
    return [synthetic_lge_image(ref, lge[:, :, k].T, series_uid=series_uid, instance=k + 1,
                                version=pscgan.__version__, now=now) for k, ref in enumerate(refs)]


def _segmentation(refs: list[Dataset], labels: np.ndarray, keep_identifiers: bool) -> Dataset:
    import pscgan
    from pscgan.inference.dicom_seg import build_segmentation

    equipment = {}
    if keep_identifiers:
        for keyword, argument in (("InstitutionName", "institution_name"),
                                  ("InstitutionalDepartmentName", "institutional_department_name")):
            if getattr(refs[0], keyword, None):
                equipment[argument] = str(getattr(refs[0], keyword))
    seg = build_segmentation(refs, labels, version=pscgan.__version__, equipment=equipment)
    _copy_deidentification_status(seg, refs[0])
    return seg


def _reference_headers(cine: ImageVolume, sources: list[Dataset], keep_identifiers: bool) -> list[Dataset]:
    refs = [reference_header(ds, keep_identifiers=keep_identifiers) for ds in sources]
    # The outputs are one series in one frame of reference and one study, as DICOM (and highdicom) want,
    # even where the source's files disagree (some anonymisers give each file its own UIDs).
    frame = cine.meta.get("frame_of_reference_uid") or _new_uid()
    study = cine.meta.get("study_instance_uid") or _new_uid()
    for ref in refs:
        if str(getattr(ref, "FrameOfReferenceUID", "")) != frame:
            ref.FrameOfReferenceUID = frame
        if str(getattr(ref, "StudyInstanceUID", "")) != study:
            ref.StudyInstanceUID = study
    if cine.meta.get("uniform_slice_spacing"):
        # Stated explicitly, rounded to 1 nm: left to highdicom, float noise from the positions can
        # exceed the 16 characters of a DICOM decimal string, and a single slice would get 1 mm.
        for ref in refs:
            if "SpacingBetweenSlices" not in ref:
                ref.SpacingBetweenSlices = DS(round(float(cine.spacing[2]), 6), auto_format=True)
    return refs


def _check_arrays(cine: ImageVolume, synthetic_lge: np.ndarray, segmentation: np.ndarray,
                  phase: int) -> tuple[np.ndarray, np.ndarray]:
    meta = cine.meta or {}
    if meta.get("format") != "dicom" or "sop_instance_uids" not in meta or cine.array.ndim != 4:
        raise ValueError("the cine was not read from a DICOM cine series (pscgan.io.dicom.read_dicom_series "
                         "with kind='cine'); DICOM outputs need its source images")
    spatial = tuple(cine.array.shape[:3])
    for name, arr in (("synthetic_lge", synthetic_lge), ("segmentation", segmentation)):
        if tuple(np.shape(arr)) != spatial:
            raise ValueError(f"{name} has shape {tuple(np.shape(arr))}, expected the cine's spatial shape "
                             f"{spatial} (x, y, slice) in its original geometry")
    if not 0 <= phase < cine.array.shape[3]:
        raise ValueError(f"phase {phase} out of range: the cine has {cine.array.shape[3]} phases")
    lge = np.asarray(synthetic_lge, np.float64)
    if not np.all(np.isfinite(lge)):
        raise ValueError("synthetic_lge holds NaN or infinite values")
    if lge.size and (lge.min() < -RANGE_TOLERANCE or lge.max() > 1 + RANGE_TOLERANCE):
        raise ValueError(f"synthetic_lge values span [{lge.min():.4g}, {lge.max():.4g}], expected [0, 1] "
                         "(relative units)")
    return np.clip(lge, 0.0, 1.0), to_pscgan(segmentation)


def find_source_images(cine: ImageVolume, phase: int = 0) -> list[Dataset]:
    """Re-read the headers (no pixel data) of the cine images of ``phase``, one per slice, in slice order.

    Raises:
        InputError: naming the folder when an image is not found (listing unreadable files, if any), or
            naming the file when it cannot be read or no longer matches the cine's geometry.
    """
    folder = Path(cine.source) if cine.source is not None else None
    if folder is None or not folder.exists():
        raise InputError(folder, "source DICOM folder of the cine not found; the DICOM outputs reference "
                                 "its images, keep them in place until the export")
    if folder.is_file():
        folder = folder.parent
    wanted = {str(uids[phase]): k for k, uids in enumerate(cine.meta["sop_instance_uids"])}
    found: dict[int, Path] = {}
    unreadable: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
        except Exception:
            unreadable.append(path.name)  # notes or thumbnails beside the series, or a damaged file
            continue
        k = wanted.get(str(getattr(ds, "SOPInstanceUID", "")))
        if k is not None:
            found[k] = path
    missing = sorted(set(wanted.values()) - set(found))
    if missing:
        uid_of = {k: uid for uid, k in wanted.items()}
        lost = "; ".join(f"slice {k}: SOPInstanceUID {uid_of[k]}" for k in missing)
        extra = f" (unreadable files in the folder: {', '.join(unreadable[:5])})" if unreadable else ""
        raise InputError(folder, f"source image of phase {phase} not found for {lost}{extra}")
    headers: list[Dataset] = []
    for k in range(len(wanted)):
        path = found[k]
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:
            raise InputError(path, f"unreadable DICOM file ({type(exc).__name__}: {exc})") from None
        _check_matches_cine(path, ds, cine, k)
        headers.append(ds)
    return headers


def _check_matches_cine(path: Path, ds: Dataset, cine: ImageVolume, k: int) -> None:
    expected = np.asarray(cine.meta["image_positions_patient"][k], float)
    try:
        position = np.asarray(ds.ImagePositionPatient, float)
        size = (int(ds.Columns), int(ds.Rows))
    except (AttributeError, TypeError, ValueError):
        raise InputError(path, "missing or invalid ImagePositionPatient, Rows or Columns") from None
    moved = position.shape != (3,) or not np.allclose(position, expected, atol=1e-3)
    if moved or size != cine.array.shape[:2]:
        raise InputError(path, f"no longer matches the cine read earlier (slice {k}: position or matrix "
                               "size differs); was the folder changed?")


def reference_header(source: Dataset, *, keep_identifiers: bool) -> Dataset:
    """A new dataset holding only the whitelisted attributes of ``source`` (see the module docstring).

    Example:
        >>> from pydicom.dataset import Dataset
        >>> src = Dataset(); src.PatientName = "Doe^Jane"; src.Rows = 4
        >>> ref = reference_header(src, keep_identifiers=False)
        >>> str(ref.PatientName), ref.Rows, ref.PatientIdentityRemoved
        ('ANONYMOUS^', 4, 'YES')
    """
    ref = Dataset()
    for keyword in _KEPT + (_IDENTIFYING if keep_identifiers else ()):
        if keyword in source:
            ref[keyword] = copy.deepcopy(source[keyword])
    if not keep_identifiers:
        ref.PatientName, ref.PatientID = PSEUDONYM_NAME, PSEUDONYM_ID
        ref.PatientIdentityRemoved = "YES"
        ref.DeidentificationMethod = DEID_METHOD
        ref.DeidentificationMethodCodeSequence = [
            _code_item(codes.DCM.BasicApplicationConfidentialityProfile),
            _code_item(codes.DCM.RetainUidsOption),
        ]
    _empty_invalid_dates(ref)
    for keyword in ("PatientName", "PatientID", *_TYPE2_EMPTY):
        if keyword not in ref:
            setattr(ref, keyword, "")
    return ref


def _empty_invalid_dates(ref: Dataset) -> None:
    """Empty the dates and times that are no date (``00000000``, month ``00``: anonymisers write them).

    Kept identifiers are copied as they are, but such values cannot be written into a SEG (highdicom
    parses them) and say nothing; the copied ones are all Type 2, so empty is valid.
    """
    from pydicom.valuerep import DA, DT, TM

    parsers = {"DA": DA, "TM": TM, "DT": DT}
    for elem in list(ref):
        if elem.VR in parsers and elem.value not in (None, ""):
            try:
                parsers[elem.VR](str(elem.value))
            except ValueError:
                elem.value = ""


def _code_item(code: Any) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = (
        code.value,
        code.scheme_designator,
        code.meaning,
    )
    return item


def source_identifiers(cine: ImageVolume) -> dict[str, str]:
    """The patient, study and series identifiers of the cine's first source image, as text.

    Only for ``keep_identifiers``: the result identifies the patient. Empty or absent attributes are left
    out.

    Raises:
        InputError: the source images cannot be found or read (see :func:`find_source_images`).
    """
    found = {}
    with quiet_uid_warnings():  # pydicom decodes each value on first access
        source = find_source_images(cine, 0)[0]
        for keyword in _LINKING:
            value = getattr(source, keyword, None)
            if value not in (None, ""):
                found[keyword] = str(value)
    return found


def synthetic_lge_image(ref: Dataset, image: np.ndarray, *, series_uid: str, instance: int, version: str,
                        now: datetime) -> Dataset:
    """One derived MR image: ``image`` (rows x columns, values in [0, 1]) in the geometry of ``ref``."""
    ds = copy.deepcopy(ref)
    sop_uid = _new_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = MRImageStorage, sop_uid, "MR"
    ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber = series_uid, LGE_SERIES_NUMBER, instance
    ds.SeriesDescription = LGE_SERIES_DESCRIPTION
    # The MR image module requires a third value; OTHER is its defined term for a computed image.
    ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    if not str(getattr(ds, "BodyPartExamined", "")):
        ds.BodyPartExamined = "HEART"  # so that validators know the (unpaired) part: no Laterality needed
    ds.DerivationDescription = LGE_DERIVATION
    ds.ImageComments = "Research use only, not for diagnosis"
    source_item = Dataset()
    source_item.ReferencedSOPClassUID = ref.SOPClassUID
    source_item.ReferencedSOPInstanceUID = ref.SOPInstanceUID
    purpose = Dataset()
    code = codes.DCM.SourceImageForImageProcessingOperation
    purpose.CodeValue, purpose.CodingSchemeDesignator, purpose.CodeMeaning = code.value, "DCM", code.meaning
    source_item.PurposeOfReferenceCodeSequence = [purpose]
    ds.SourceImageSequence = [source_item]
    ds.Manufacturer, ds.ManufacturerModelName, ds.SoftwareVersions = "pscgan", "pscgan", version
    ds.SeriesDate = ds.ContentDate = now.strftime("%Y%m%d")
    ds.SeriesTime = ds.ContentTime = now.strftime("%H%M%S")
    # The MR image module requires these; a derived image keeps the source's values, else neutral ones.
    for keyword, default in (("ScanningSequence", "RM"), ("SequenceVariant", "NONE"), ("ScanOptions", ""),
                             ("MRAcquisitionType", "2D"), ("EchoTime", None), ("EchoTrainLength", None)):
        if keyword not in ds:
            setattr(ds, keyword, default)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.Rows, ds.Columns = image.shape
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = DS(1.0 / MAX_STORED, auto_format=True), 0, "US"
    ds.WindowCenter, ds.WindowWidth = DS(0.5), DS(1.0)  # in rescaled units: the whole [0, 1] range
    ds.BurnedInAnnotation, ds.LossyImageCompression = "NO", "00"
    stored = np.rint(np.clip(image, 0.0, 1.0) * MAX_STORED).astype(np.uint16)
    ds.PixelData = np.ascontiguousarray(stored).tobytes()
    return ds


def _copy_deidentification_status(seg: Dataset, ref: Dataset) -> None:
    # Make the status explicit in the SEG whatever highdicom's patient-module copy includes.
    for keyword in ("PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence"):
        if keyword in ref:
            seg[keyword] = copy.deepcopy(ref[keyword])


def _new_uid() -> str:
    return str(generate_uid())


def _write_atomically(out_dir: Path, images: list[Dataset] | None, seg: Dataset | None) -> dict[str, Path]:
    """Write everything into a hidden folder beside ``out_dir``, then rename it into place."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    paths = {}
    try:
        written = []
        if images:
            series = tmp / LGE_FOLDER
            series.mkdir()
            for ds in images:
                path = series / f"IM_{int(ds.InstanceNumber):04d}.dcm"
                ds.save_as(path, enforce_file_format=True)
                written.append(path)
            paths["synthetic_lge"] = out_dir / LGE_FOLDER
        if seg is not None:
            seg.save_as(tmp / SEG_FILE)
            written.append(tmp / SEG_FILE)
            paths["segmentation"] = out_dir / SEG_FILE
        for path in written:  # durable before the rename makes them visible
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
        if out_dir.exists():
            out_dir.rmdir()  # checked empty earlier; renaming onto a folder is not portable
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return paths
