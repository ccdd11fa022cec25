"""pscgan: contrast-agent-free LGE synthesis and scar segmentation from cine MRI.

Implements the progressive sequential causal GANs (PSCGAN) of Xu et al., Medical Image Analysis,
together with the data layer, a numerical cine + LGE phantom, training, prediction and the clinical
evaluation a cardiac MRI group needs around them.

Example:
    >>> import pscgan
    >>> pscgan.__version__
    '0.1.0'
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
