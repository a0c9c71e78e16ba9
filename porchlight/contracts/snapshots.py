"""Canonical snapshot hashing: the same snapshot always gives the same bytes and digest.

A snapshot is what a customer was shown when they accepted, declined or signed. Its
canonical form is JSON with sorted keys, no spaces, UTF-8 text as it is (not escaped to
ASCII). Floats are refused: money and quantities travel as integers or strings, and a
float's text can differ between producers for the same number.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _check(value: Any, where: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        raise TypeError(f"{where} is a float; send money and quantities as integers or strings")
    if isinstance(value, dict):
        for key, item in value.items():
            # A non-text key would be turned into text, so {1: x} and {"1": x} would collide.
            if not isinstance(key, str):
                raise TypeError(f"{where} has a key that is not text: {key!r}")
            _check(item, f"{where}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
        return
    raise TypeError(f"{where} is a {type(value).__name__}, which a snapshot cannot hold")


def canonical_json(value: Any) -> bytes:
    """The canonical bytes of ``value``; raise TypeError for floats and anything JSON
    cannot hold exactly, ValueError (UnicodeEncodeError) for text with lone surrogates."""
    _check(value, "snapshot")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(value: Any) -> str:
    """The SHA-256 (hex) of the canonical bytes of ``value``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
