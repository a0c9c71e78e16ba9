import pytest

from porchlight.contracts import signature_path
from porchlight.contracts.signature_path import (
    MAX_BYTES,
    MAX_POINTS,
    MAX_STROKES,
    SignaturePathError,
    parse,
    to_path,
    to_svg,
)

SAMPLE = "M10.5 20 L11 21.25 L12 22 M40 30 L41 31"

GRAMMAR = "M and L commands"
BOX = "inside the 480 by 160 pad"


def path_of_bytes(size: int) -> str:
    """A valid path of exactly ``size`` bytes (10 KB or 10 KB + 1), well under MAX_POINTS."""
    head = "M0 0" + " L123.456 12.345" * 639  # 4 + 16 * 639 = 10 228 bytes, 640 points
    tail = {10_240: " L12.5 12.25", 10_241: " L12.5 12.255"}[size]
    path = head + tail
    assert len(path.encode("utf-8")) == size
    return path


def test_parse_splits_strokes_at_each_move():
    assert parse(SAMPLE) == [
        [(10.5, 20.0), (11.0, 21.25), (12.0, 22.0)],
        [(40.0, 30.0), (41.0, 31.0)],
    ]


def test_normalized_path_round_trips():
    assert to_path(parse(SAMPLE)) == SAMPLE
    assert parse(to_path(parse(SAMPLE))) == parse(SAMPLE)


@pytest.mark.parametrize("sent, stored", [
    ("M10,20 L11,21", "M10 20 L11 21"),  # commas become spaces
    ("M10.500 20.000 L11.0 21.10", "M10.5 20 L11 21.1"),  # no trailing zeros
    ("M1.125 1 L2.006 3.999", "M1.12 1 L2.01 4"),  # at most two decimals
    ("M-0 0 L0.001 1", "M0 0 L0 1"),  # no negative zero
    ("M0 0 L480 160", "M0 0 L480 160"),  # the corners of the pad are inside it
    ("M0001 2 L3 4", "M1 2 L3 4"),
])
def test_the_stored_path_is_rewritten_from_the_numbers(sent, stored):
    assert to_path(parse(sent)) == stored
    assert to_path(parse(stored)) == stored


def test_svg_comes_from_the_fixed_template():
    assert to_svg(parse("M10,20 L11.125,21")) == (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 160" width="480" height="160">'
        '<path d="M10 20 L11.12 21" fill="none" stroke="#111" stroke-width="2" '
        'stroke-linecap="round" stroke-linejoin="round"/></svg>'
    )


MALFORMED = [
    # markup and script, whole or smuggled after valid data
    ("<script>alert(1)</script>", GRAMMAR),
    ('M1 1 L2 2"/><script>alert(1)</script>', GRAMMAR),
    ("<svg><foreignObject><body onload=alert(1)></body></foreignObject></svg>", GRAMMAR),
    ('<svg onload="alert(1)"><path d="M1 1 L2 2"/></svg>', GRAMMAR),
    ('M1 1 L2 2" onload="alert(1)', GRAMMAR),
    ('M1 1 L2 2" onclick="alert(1)', GRAMMAR),
    ("javascript:alert(1)", GRAMMAR),
    ("M1 1 L2 2 javascript:alert(1)", GRAMMAR),
    ("M1 1 L2 2;alert(1)", GRAMMAR),
    ("M1 1 L2 2\x00", GRAMMAR),
    # special floats, exponents, signs, number shapes
    ("MNaN 1 L2 2", GRAMMAR),
    ("M1 NaN L2 2", GRAMMAR),
    ("M1 1 LInfinity 2", GRAMMAR),
    ("M1 1 L-Infinity 2", GRAMMAR),
    ("M1 1 Linf 2", GRAMMAR),
    ("M1e3 1 L2 2", GRAMMAR),
    ("M1 1 L2E1 2", GRAMMAR),
    ("M+1 1 L2 2", GRAMMAR),
    ("M0x10 1 L2 2", GRAMMAR),
    ("M1_0 1 L2 2", GRAMMAR),
    ("M.5 1 L2 2", GRAMMAR),
    ("M1. 1 L2 2", GRAMMAR),
    ("M1.1234 1 L2 2", GRAMMAR),  # four decimals
    ("M1,1 L2.12345 3", GRAMMAR),  # five decimals: refused, not rounded
    ("M12345 1 L2 2", GRAMMAR),  # five digits
    ("M\u0661 1 L2 2", GRAMMAR),  # ARABIC-INDIC DIGIT ONE: float() would take it
    ("M\uff11 1 L2 2", GRAMMAR),  # FULLWIDTH DIGIT ONE
    # commands and case
    ("m1 1 l2 2", GRAMMAR),
    ("M1 1 l2 2", GRAMMAR),
    ("L1 1 L2 2", GRAMMAR),  # must start with M
    ("M1 1 C2 2 3 3 4 4", GRAMMAR),
    ("M1 1 L2 2 Z", GRAMMAR),
    ("M1 1 Q2 2 3 3", GRAMMAR),
    ("M1 1 A1 1 0 0 1 2 2", GRAMMAR),
    ("M1 1 H5", GRAMMAR),
    ("M1 1 V5", GRAMMAR),
    # separators and shape
    ("M1 1 L2 2\n", GRAMMAR),  # a trailing newline ("$" would let it through)
    ("M1 1 L2 2\r\n", GRAMMAR),
    ("\nM1 1 L2 2", GRAMMAR),
    (" M1 1 L2 2", GRAMMAR),
    ("M1 1 L2 2 ", GRAMMAR),
    ("M1 1  L2 2", GRAMMAR),
    ("M1 1\tL2 2", GRAMMAR),
    ("M1 1,L2 2", GRAMMAR),
    ("M 1 1 L 2 2", GRAMMAR),
    ("M1 1 L2", GRAMMAR),
    ("M1 1 L2 2 3", GRAMMAR),
    ("M1,,1 L2 2", GRAMMAR),
    ("M1 1L2 2", GRAMMAR),
    # outside the pad
    ("M481 1 L2 2", BOX),
    ("M1 1 L2 -1", BOX),
    ("M1 1 L2 160.5", BOX),
    ("M480.001 1 L2 2", BOX),
    ("M-0.001 1 L2 2", BOX),
    ("M9999 9999 L2 2", BOX),
    # nothing, or only dots
    ("", "empty"),
    ("M1 1", "at least one line"),
    ("M1 1 M2 2 M3 3", "at least one line"),
]


@pytest.mark.parametrize("data, rule", MALFORMED)
def test_malformed_signatures_are_refused_naming_the_rule(data, rule):
    with pytest.raises(SignaturePathError, match=rule):
        parse(data)


@pytest.mark.parametrize("data", [None, b"M1 1 L2 2", 42, ["M1 1 L2 2"], {"d": "M1 1 L2 2"}])
def test_only_text_is_accepted(data):
    with pytest.raises(SignaturePathError, match="SVG path text"):
        parse(data)


def test_errors_are_value_errors_with_a_human_message():
    with pytest.raises(ValueError) as info:
        parse("M1 1")
    assert str(info.value) == "The signature needs at least one line, not only dots."


def test_exactly_ten_kilobytes_of_valid_path_is_accepted():
    strokes = parse(path_of_bytes(MAX_BYTES))
    assert sum(len(stroke) for stroke in strokes) == 641 <= MAX_POINTS


def test_ten_kilobytes_and_one_byte_is_refused_by_the_size_rule_alone(monkeypatch):
    data = path_of_bytes(MAX_BYTES + 1)
    with pytest.raises(SignaturePathError, match="too large"):
        parse(data)
    # The same text passes every other rule: only its size was wrong.
    monkeypatch.setattr(signature_path, "MAX_BYTES", MAX_BYTES + 1)
    assert len(parse(data)[0]) == 641


def test_size_is_counted_in_utf8_bytes_and_checked_first():
    with pytest.raises(SignaturePathError, match="too large"):
        parse("é" * (MAX_BYTES // 2 + 1))  # fewer characters than MAX_BYTES, more bytes
    with pytest.raises(SignaturePathError, match="too large"):
        parse("<script>" * 1_000_000)


def test_at_most_max_points():
    at_limit = "M1 1" + " L2 2" * (MAX_POINTS - 1)
    assert sum(len(s) for s in parse(at_limit)) == MAX_POINTS
    over = at_limit + " L3 3"
    assert len(over.encode()) <= MAX_BYTES  # within the size limit: the points rule fires
    with pytest.raises(SignaturePathError, match=f"too many points: at most {MAX_POINTS}"):
        parse(over)


def test_at_most_max_strokes():
    at_limit = " ".join(["M1 1 L2 2"] * MAX_STROKES)
    assert len(parse(at_limit)) == MAX_STROKES
    with pytest.raises(SignaturePathError, match=f"too many strokes: at most {MAX_STROKES}"):
        parse(at_limit + " M3 3")
