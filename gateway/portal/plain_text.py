"""People's own words on a page — comments — as plain text: every character escaped, line
breaks kept, and web addresses (``http://`` or ``https://``) made into links that carry no
referrer and no credit. Nothing a person typed is ever read as HTML."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# An address runs to the first space or angle bracket; a closing punctuation mark at its
# end belongs to the sentence ("see https://example.org/plan." links without the dot).
_ADDRESS = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»”’"


def _link(address: str) -> str:
    shown = escape(address)
    return f'<a href="{shown}" rel="nofollow noopener noreferrer ugc">{shown}</a>'


def plain_text(text: str | None) -> Markup:
    """``text`` as safe HTML: escaped, each address a link, each line break a ``<br>``."""
    parts, last = [], 0
    value = text or ""
    for found in _ADDRESS.finditer(value):
        address = found.group(0)
        kept = address.rstrip(_TRAILING)
        parts.append(str(escape(value[last:found.start()])))
        parts.append(_link(kept))
        parts.append(str(escape(address[len(kept):])))
        last = found.end()
    parts.append(str(escape(value[last:])))
    return Markup("<br>\n".join("".join(parts).split("\n")))  # noqa: S704 - every part escaped above
