"""HTML reports a cardiologist reads: one page per subject and one per cohort.

Each page is a single self-contained HTML file (images as ``data:`` URIs, inline CSS, a few lines of
inline JavaScript for the cine players) that opens offline in any browser and loads nothing else.

* :func:`write_subject_report`: cine players, synthetic vs acquired LGE, segmentation overlays, the AHA
  bull's-eye of scar transmurality, clinical and imaging metrics, per-slice table, notes;
* :func:`write_cohort_report`: correlation and Bland-Altman plots, metric summaries, subjects worst first.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> view = SliceView(0, None, (1.5, 1.5), np.zeros((3, 16, 16)), None, None, None, None)
    >>> data = SubjectReportData("S01", [view], predicted=None, reference=None)
    >>> write_subject_report(data, pathlib.Path(tempfile.mkdtemp()) / "S01.html").suffix
    '.html'
"""

from __future__ import annotations

from pscgan.report.cohort import worst_first, write_cohort_report
from pscgan.report.data import SliceView, SubjectReportData
from pscgan.report.subject import write_subject_report

__all__ = ["SliceView", "SubjectReportData", "worst_first", "write_cohort_report", "write_subject_report"]
