from __future__ import annotations

import base64
import hashlib
import re

import pytest

import pscgan
from pscgan.report.animation import player_script
from pscgan.report.formatting import NOT_DEFINED, fmt_diff, fmt_fixed, fmt_mean_sd, fmt_ratio, fmt_value
from pscgan.report.html import Html, definition_list, element, esc, image, legend, page, table


@pytest.mark.parametrize("value", [None, float("nan"), float("inf")])
def test_undefined_values_read_not_defined(value):
    for text in (
        fmt_value(value),
        fmt_fixed(value, 2, "ml"),
        fmt_ratio(value),
        fmt_diff(value, 1.0),
        fmt_diff(1.0, value),
        fmt_mean_sd(value, 1.0),
    ):
        assert text == NOT_DEFINED and "nan" not in text.lower()


def test_number_formats():
    assert fmt_ratio(0.0) == "0.0 %" and fmt_ratio(0.1234) == "12.3 %"
    assert fmt_fixed(4.179, 2, "ml") == "4.18 ml" and fmt_fixed(-0.001, 1) == "0.0"
    assert fmt_diff(0.2, 0.1, 1, "pp", scale=100) == "+10.0 pp" and fmt_diff(1.0, 3.0, 1) == "-2.0"
    assert fmt_value(0.82345) == "0.823" and fmt_value(27.456) == "27.5" and fmt_value(0.0) == "0"
    assert fmt_mean_sd(0.85, 0.05) == "0.850 (0.050)" and fmt_mean_sd(0.85, None) == "0.850"


def test_builders_escape_plain_text_and_keep_markup():
    bad = '<script>alert("x")</script>'
    assert esc(bad) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    t = table([bad], [[bad, Html("<b>ok</b>")]], caption=bad)
    assert "<script>" not in t and "<b>ok</b>" in t
    assert "<script>" not in definition_list({bad: bad})
    assert (
        element("p", bad, class_='a"b')
        == '<p class="a&quot;b">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>'
    )
    assert 'alt="&lt;script&gt;' in image("data:image/png;base64,AA==", bad)


def test_images_must_be_data_uris():
    for uri in ("https://example.org/a.png", "file:///etc/passwd", "a.png", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            image(uri, "x")


def test_legend_names_every_tissue():
    text = legend()
    for name in ("LV blood pool", "healthy myocardium", "scar"):
        assert name in text


def test_page_policy_allows_only_its_own_script():
    script = player_script()
    doc = page("t <x>", Html("<p>body</p>"), script=script)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', doc).group(1)
    assert f"script-src &#x27;sha256-{digest}&#x27;" in policy and "default-src &#x27;none&#x27;" in policy
    assert doc.count("<script>") == 1 and f"<script>{script}</script>" in doc
    assert "<title>t &lt;x&gt;</title>" in doc
    assert "script-src &#x27;none&#x27;" in page("t", Html(""))
    assert "not for clinical decisions" in doc and f"pscgan {pscgan.__version__}" in doc
