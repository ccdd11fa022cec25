"""Page assembly: escaping, small HTML builders, and the self-contained page shell.

Every text that comes from outside (subject ids, metadata details, notes, metric names) goes through
:func:`esc`; builders accept either plain text (escaped here) or :class:`Html` (markup built by this
package from escaped parts). The page carries its CSS inline and its images as ``data:`` URIs, and a
Content-Security-Policy that forbids loading anything (no network, no other file) and runs only the
page's own script (by hash): even a markup mistake could not make the page fetch or execute anything else.

Example:
    >>> esc("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> table(["a", "b"], [["<1>", Html("<b>2</b>")]])
    '<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>&lt;1&gt;</td><td><b>2</b></td></tr></tbody></table>'
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from importlib import resources

import pscgan
from pscgan.report.panels import TISSUE_COLOURS


class Html(str):
    """A string that is already safe HTML."""


def esc(value: object) -> Html:
    """HTML-escape the text of ``value`` (quotes included, so it is safe in attributes too)."""
    return Html(html.escape(str(value), quote=True))


def markup(value: object) -> Html:
    """``value`` itself if it is :class:`Html`, else its escaped text."""
    return value if isinstance(value, Html) else esc(value)


def join(parts: Iterable[object], sep: str = "") -> Html:
    return Html(sep.join(markup(p) for p in parts))


def element(name: str, content: object = "", **attrs: object) -> Html:
    """``<name attrs>content</name>``; attribute values are escaped, ``class_`` means ``class``."""
    text = "".join(
        f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None
    )
    return Html(f"<{name}{text}>{markup(content)}</{name}>")


def table(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    class_: str | None = None,
    caption: object | None = None,
) -> Html:
    """A table; headers and cells are escaped unless they are :class:`Html`."""
    cap = element("caption", caption) if caption is not None else ""
    head = "<thead><tr>" + "".join(f"<th>{markup(h)}</th>" for h in headers) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{markup(c)}</td>" for c in row) + "</tr>" for row in rows)
    cls = f' class="{esc(class_)}"' if class_ else ""
    return Html(f"<table{cls}>{cap}{head}<tbody>{body}</tbody></table>")


def definition_list(items: Mapping[str, str], *, class_: str = "details") -> Html:
    """Key/value pairs (e.g. scanner details) as a ``<dl>``; both sides escaped."""
    body = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in items.items())
    return Html(f'<dl class="{esc(class_)}">{body}</dl>')


def image(uri: str, alt: object, *, class_: str | None = None) -> Html:
    """An ``<img>`` of a ``data:`` URI (anything else is refused: the page must not load files)."""
    if not uri.startswith("data:image/"):
        raise ValueError("report images must be data: URIs")
    cls = f' class="{esc(class_)}"' if class_ else ""
    return Html(f'<img{cls} src="{uri}" alt="{esc(alt)}">')


def figure(content: Html, caption: object, *, class_: str = "panel") -> Html:
    return Html(f'<figure class="{esc(class_)}">{content}<figcaption>{markup(caption)}</figcaption></figure>')


def section(title: object, content: object, *, id_: str | None = None) -> Html:
    ident = f' id="{esc(id_)}"' if id_ else ""
    return Html(f"<section{ident}><h2>{markup(title)}</h2>{markup(content)}</section>")


def legend() -> Html:
    """Colour legend of the segmentation overlays."""
    items = "".join(
        f'<li><span class="swatch swatch-{t.name.lower()}"></span>{esc(t.display_name)}</li>'
        for t in TISSUE_COLOURS
    )
    return Html(f'<ul class="legend" id="legend" aria-label="segmentation colours">{items}</ul>')


def stylesheet() -> str:
    """The page CSS: the package's style sheet plus the tissue colours (one source: ``TISSUE_COLOURS``)."""
    css = resources.files("pscgan.report").joinpath("style.css").read_text(encoding="utf-8")
    swatches = "".join(f".swatch-{t.name.lower()}{{background:{c}}}\n" for t, c in TISSUE_COLOURS.items())
    return css + swatches


def content_security_policy(script: str | None) -> str:
    """Nothing may be loaded; images only from ``data:``; only ``script`` (by its SHA-256) may run."""
    scripts = "'none'"
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        scripts = f"'sha256-{digest}'"
    return (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {scripts}; "
        "base-uri 'none'; form-action 'none'"
    )


def footer(generated: datetime) -> Html:
    return Html(
        "<footer><p><strong>Research tool: not for clinical decisions.</strong> Synthetic LGE images and "
        "segmentations are model predictions and may be wrong.</p>"
        f"<p>pscgan {esc(pscgan.__version__)} &middot; "
        f"generated {esc(generated.strftime('%Y-%m-%d %H:%M UTC'))}"
        "</p></footer>"
    )


def page(title: str, body: Html, *, script: str | None = None, generated: datetime | None = None) -> str:
    """A complete self-contained HTML document; ``title`` is plain text, ``script`` inline JavaScript."""
    generated = generated or datetime.now(timezone.utc)
    script_tag = f"<script>{script}</script>" if script is not None else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(content_security_policy(script))}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{stylesheet()}</style></head>"
        f"<body><main>{body}</main>{footer(generated)}{script_tag}</body></html>\n"
    )
