"""Planted patient identifiers never leave a DICOM input unless ``--keep-identifiers`` is given.

A DICOM cine carries unusual identifier strings in the patient, study and institution attributes, in a
nested sequence and in a private tag. ``pscgan predict`` and ``pscgan report`` run through the command
line; then every output file is searched (text as text, DICOM element by element including sequences,
NIfTI header fields and extensions, compressed members, PNG metadata of the report images), and so are
the captured output, log records and warnings.
"""

from __future__ import annotations

import base64
import gzip
import io
import logging
import re
import warnings
import zipfile
from pathlib import Path

import nibabel as nib
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from typer.testing import CliRunner

from pscgan.cli.main import app

runner = CliRunner()

PLANTED = {"PatientName": "Zyxwv^Planted", "PatientID": "PLANTED-ID-93817", "PatientBirthDate": "19010203",
           "InstitutionName": "Planted General", "InstitutionAddress": "1 Planted Road",
           "PatientAddress": "2 Planted Lane", "OtherPatientIDs": "PLANTED-OTHER-5521",
           "AccessionNumber": "PLANTEDACC77", "ReferringPhysicianName": "Referrer^Planted",
           "StudyID": "PLSTUDY9", "StudyDescription": "Planted study of Zyxwv",
           "PerformingPhysicianName": "Performer^Planted", "OperatorsName": "Operator^Planted"}
#: What a search must not find (lower case): each planted value holds one of these.
NEEDLES = ("zyxwv", "planted", "19010203", "1901-02-03", "plstudy9")


def _plant(ds: Dataset) -> None:
    other = Dataset()
    other.PatientID, other.IssuerOfPatientID = "PLANTED-NESTED-4242", "Planted Registry"
    ds.OtherPatientIDsSequence = [other]
    ds.private_block(0x0029, "PLANTED VENDOR", create=True).add_new(0x10, "LO", "Zyxwv private copy")


def _dicom_texts(ds: Dataset) -> list[str]:
    texts = [str(e.value) for e in ds.file_meta] if hasattr(ds, "file_meta") else []
    for elem in ds.iterall():  # nested sequence items included
        if elem.VR not in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") and elem.VR != "SQ":
            texts.append(str(elem.value))
        if elem.VR in ("UN", "OB") and isinstance(elem.value, bytes) and len(elem.value) < 4096:
            texts.append(elem.value.decode("latin-1"))
    return texts


def _nifti_texts(path: Path) -> list[str]:
    header = nib.load(str(path)).header
    texts = [str(header[f].item()) for f in ("descrip", "aux_file", "intent_name", "db_name")
             if f in header]
    texts += [ext.get_content().decode("latin-1") if isinstance(ext.get_content(), bytes)
              else str(ext.get_content()) for ext in header.extensions]
    return texts


def _png_texts(data: bytes) -> list[str]:
    img = Image.open(io.BytesIO(data))
    return [f"{k}={v}" for k, v in {**img.info, **getattr(img, "text", {})}.items()]


def _texts(path: Path) -> list[str]:
    """Everything a reader of ``path`` could see as text."""
    data = path.read_bytes()
    texts = [data.decode("latin-1")]
    if path.name.endswith(".gz"):
        texts.append(gzip.decompress(data).decode("latin-1"))
    if path.name.endswith((".nii", ".nii.gz")):
        texts += _nifti_texts(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            texts += [z.read(n).decode("latin-1") for n in z.namelist()] + z.namelist()
    if data[128:132] == b"DICM":
        texts += _dicom_texts(pydicom.dcmread(path))
    if path.suffix == ".html":
        for uri in re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]+)', texts[0]):
            texts += _png_texts(base64.b64decode(uri))
    return texts


def _found(texts: list[str]) -> set[str]:
    joined = "\n".join(texts).lower()
    return {n for n in NEEDLES if n in joined}


def _scan(*roots: Path) -> dict[str, set[str]]:
    """Planted strings found, by file (files with none are left out); file names are searched too."""
    hits = {}
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            found = _found([*_texts(path), str(path.relative_to(root))])
            if found:
                hits[str(path.relative_to(root.parent))] = found
    return hits


@pytest.fixture
def planted_cine(write_dicom_cine, tmp_path: Path) -> Path:
    return write_dicom_cine(tmp_path / "inputs" / "series_a", PLANTED, edit=_plant)


def _run(args: list[str], caplog: pytest.LogCaptureFixture) -> str:
    """Run the CLI capturing its output, every log record (any logger, DEBUG up) and every warning."""
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return "\n".join([res.output, caplog.text, *(str(w.message) for w in caught)])


def test_the_source_holds_the_identifiers(planted_cine: Path) -> None:
    """Control: the search finds every planted string in the input, so finding none below means something."""
    hits = _scan(planted_cine)
    assert len(hits) == len(list(planted_cine.iterdir()))
    assert all(found >= {"zyxwv", "planted", "19010203", "plstudy9"} for found in hits.values())


def test_default_outputs_hold_no_identifier(planted_cine: Path, tiny_weights: Path, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    pred, report = tmp_path / "pred", tmp_path / "report"
    logs = _run(["predict", str(planted_cine), "--weights", str(tiny_weights), "--out", str(pred)], caplog)
    logs += _run(["report", str(pred), "--out", str(report)], caplog)
    assert (pred / "series_a" / "dicom" / "segmentation.dcm").is_file()
    assert (report / "subjects" / "series_a.html").is_file()
    assert _scan(pred, report) == {}
    assert _found([logs]) == set()
    for f in [pred / "series_a" / "dicom" / "segmentation.dcm",
              *sorted((pred / "series_a" / "dicom" / "synthetic_lge").iterdir())]:
        ds = pydicom.dcmread(f)
        assert ds.PatientIdentityRemoved == "YES" and ds.DeidentificationMethod
        assert [c.CodeValue for c in ds.DeidentificationMethodCodeSequence] == ["113100", "113110"]


def test_kept_identifiers_appear_only_where_asked(planted_cine: Path, tiny_weights: Path, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    pred, report, plain = tmp_path / "pred", tmp_path / "report", tmp_path / "plain-report"
    logs = _run(["predict", str(planted_cine), "--weights", str(tiny_weights), "--out", str(pred),
                 "--keep-identifiers"], caplog)
    logs += _run(["report", str(pred), "--out", str(report), "--keep-identifiers"], caplog)
    logs += _run(
        ["report", str(pred), "--out", str(plain)], caplog
    )  # kept in pred, not shown without the flag
    hits = _scan(pred, report, plain)
    dicom = {f"pred/series_a/dicom/{f.relative_to(pred / 'series_a' / 'dicom')}"
             for f in (pred / "series_a" / "dicom").rglob("*.dcm")}
    assert set(hits) == dicom | {"pred/series_a/identifiers.json", "report/subjects/series_a.html"}
    for name in dicom:
        ds = pydicom.dcmread(tmp_path / name)
        assert str(ds.PatientName) == PLANTED["PatientName"] and ds.PatientID == PLANTED["PatientID"]
        assert ds.PatientBirthDate == PLANTED["PatientBirthDate"] and "PatientIdentityRemoved" not in ds
    page = (report / "subjects" / "series_a.html").read_text()
    assert PLANTED["PatientID"] in page and "Zyxwv^Planted" in page
    # The source's patient and study attributes are kept (nested other ids too, so that a PACS files the
    # outputs under the same patient), never its patient's address or private tags.
    assert "planted-nested" in "\n".join(_texts(tmp_path / sorted(dicom)[0])).lower()
    for name in hits:
        joined = "\n".join(_texts(tmp_path / name)).lower()
        assert "planted lane" not in joined and "private copy" not in joined, name
    assert _found([logs]) == set()
