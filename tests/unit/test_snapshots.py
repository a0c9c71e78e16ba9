import hashlib

import pytest

from porchlight.contracts.snapshots import canonical_json, digest

SNAPSHOT = {
    "number": "EST-0042",
    "revision": 3,
    "currency": "EUR",
    "lines": [
        {"description": "Replace boiler valve", "quantity": "1.5", "unit_price_minor": 12_000},
        {"description": "Call-out", "quantity": "1", "unit_price_minor": 4_500},
    ],
    "total_minor": 22_500,
    "accepted_terms": True,
    "notes": None,
}


def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": [True, None, "x"]}) == b'{"a":[true,null,"x"],"b":1}'


def test_key_order_does_not_matter():
    reordered = {key: SNAPSHOT[key] for key in reversed(list(SNAPSHOT))}
    reordered["lines"] = [dict(reversed(list(line.items()))) for line in SNAPSHOT["lines"]]
    assert canonical_json(reordered) == canonical_json(SNAPSHOT)
    assert digest(reordered) == digest(SNAPSHOT)


def test_digest_is_the_sha256_of_the_canonical_bytes():
    assert digest(SNAPSHOT) == hashlib.sha256(canonical_json(SNAPSHOT)).hexdigest()
    assert len(digest(SNAPSHOT)) == 64


def test_a_one_character_change_changes_the_digest():
    changed = {**SNAPSHOT, "number": "EST-0043"}
    assert digest(changed) != digest(SNAPSHOT)
    assert digest({**SNAPSHOT, "total_minor": 22_501}) != digest(SNAPSHOT)
    assert digest({"a": "1"}) != digest({"a": 1})


@pytest.mark.parametrize("value", [
    1.5,
    {"total": 12.0},
    {"lines": [{"quantity": 0.1}]},
    {"x": float("nan")},
    {"x": float("inf")},
])
def test_floats_are_refused(value):
    with pytest.raises(TypeError, match="float"):
        canonical_json(value)
    with pytest.raises(TypeError):
        digest(value)


@pytest.mark.parametrize("value", [{1: "a"}, {"a": {1, 2}}, {"a": b"bytes"}, {"a": object()}])
def test_values_json_cannot_hold_exactly_are_refused(value):
    with pytest.raises(TypeError):
        canonical_json(value)


def test_non_ascii_text_is_kept_as_utf8_and_stable():
    value = {"name": "Zoë Ångström", "city": "Kraków", "note": "配管工事 ✓"}
    encoded = canonical_json(value)
    assert encoded == '{"city":"Kraków","name":"Zoë Ångström","note":"配管工事 ✓"}'.encode()
    assert b"\\u" not in encoded
    assert digest(value) == digest(dict(reversed(list(value.items()))))
    assert digest(value) == hashlib.sha256(encoded).hexdigest()
