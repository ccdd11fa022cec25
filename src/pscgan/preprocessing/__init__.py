"""Preprocessing: from any input geometry to the network's data contract, recording every step.

:func:`~pscgan.preprocessing.pipeline.prepare_subject` and
:func:`~pscgan.preprocessing.pipeline.prepare_arrays` run the whole chain; each step is also a pure
function of its own module (``temporal``, ``spatial``, ``localisation``, ``registration``, ``crop``,
``intensity``) returning its result and a record; :mod:`~pscgan.preprocessing.record` maps network
outputs back to the original geometry.
"""

from __future__ import annotations
