"""The drawn signature: SVG path data from the portal's 480×160 signature pad.

The pad sends path data only — never SVG markup — such as
``M10.5 20 L11 21.25 L12 22 M40 30 L41 31``. Everything about it is checked *before* any
number is parsed: its type, its size, and a strict grammar that allows nothing but
absolute ``M`` and ``L`` commands with plain decimal numbers, so no markup, script,
exponent or special float can get through. The server never stores or renders the
client's string: it stores ``to_path`` of the parsed numbers and draws ``to_svg`` from a
fixed template.

Grammar (the whole string, nothing before or after — not even a newline)::

    path     = segment *( " " segment )        ; the first segment is an M
    segment  = ( "M" / "L" ) number ( " " / "," ) number
    number   = [ "-" ] 1*4DIGIT [ "." 1*3DIGIT ]   ; ASCII digits only
"""

from __future__ import annotations

import math
import re

from porchlight.contracts.words import N_

WIDTH = 480
HEIGHT = 160
MAX_BYTES = 10_240
MAX_POINTS = 2000
MAX_STROKES = 200

Point = tuple[float, float]

# [0-9], not \d: in a str pattern \d also matches other scripts' digits, which float() accepts.
_NUMBER = r"-?[0-9]{1,4}(?:\.[0-9]{1,3})?"
_SEGMENT = rf"([ML])({_NUMBER})[ ,]({_NUMBER})"
# fullmatch, not ^...$: "$" would also match before a trailing newline.
_PATH = re.compile(rf"M{_NUMBER}[ ,]{_NUMBER}(?: {_SEGMENT})*")
_SEGMENTS = re.compile(_SEGMENT)

_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
    'width="{width}" height="{height}"><path d="{path}" fill="none" stroke="#111" '
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>'
)


class SignaturePathError(ValueError):
    """A signature the server refuses; ``str(error)`` is a message for the signer."""


def parse(data: str) -> list[list[Point]]:
    """The strokes of a drawn signature, each a list of (x, y) points; raise
    ``SignaturePathError`` naming the rule it breaks."""
    if not isinstance(data, str):
        raise SignaturePathError(N_("The signature must be sent as SVG path text."))
    # Characters never outnumber UTF-8 bytes, so a huge string is refused before encoding.
    if len(data) > MAX_BYTES or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SignaturePathError(N_("The signature is too large: at most %(kilobytes)s KB of path data.")
                                 % {"kilobytes": MAX_BYTES // 1024})
    if not data:
        raise SignaturePathError(N_("The signature is empty; please sign in the box."))
    if not _PATH.fullmatch(data):
        raise SignaturePathError(N_(
            "The signature must be path data made only of M and L commands with plain numbers, "
            "starting with M, like 'M10 20 L11 21'."
        ))
    segments = _SEGMENTS.findall(data)
    if len(segments) > MAX_POINTS:
        raise SignaturePathError(N_("The signature has too many points: at most %(max_points)s.")
                                 % {"max_points": MAX_POINTS})
    strokes: list[list[Point]] = []
    for command, raw_x, raw_y in segments:
        x, y = float(raw_x), float(raw_y)
        if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= WIDTH and 0 <= y <= HEIGHT):
            raise SignaturePathError(
                N_("Every point of the signature must lie inside the %(width)s by %(height)s pad.")
                % {"width": WIDTH, "height": HEIGHT}
            )
        if command == "M":
            strokes.append([])
        strokes[-1].append((x, y))
    if len(strokes) > MAX_STROKES:
        raise SignaturePathError(N_("The signature has too many strokes: at most %(max_strokes)s.")
                                 % {"max_strokes": MAX_STROKES})
    if not any(len(stroke) >= 2 for stroke in strokes):
        raise SignaturePathError(N_("The signature needs at least one line, not only dots."))
    return strokes


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def to_path(strokes: list[list[Point]]) -> str:
    """The normalized path the server stores: re-written from the parsed numbers, at
    most two decimals, single spaces (``M10.5 20 L11 21.25``)."""
    return " ".join(
        f"{'M' if i == 0 else 'L'}{_number(x)} {_number(y)}"
        for stroke in strokes
        for i, (x, y) in enumerate(stroke)
    )


def to_svg(strokes: list[list[Point]]) -> str:
    """A complete standalone SVG of the signature, from a fixed template."""
    return _SVG.format(width=WIDTH, height=HEIGHT, path=to_path(strokes))
