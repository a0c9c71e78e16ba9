"""What a document number may be, whether typed by staff or allocated."""

from __future__ import annotations

import re

from porchlight.validation import Form

# Letters and digits first, then a few separators; short enough for a badge or a PDF.
NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")
PREFIXES = {"work_order": "WO", "estimate": "EST", "service_report": "SR"}
LABELS = {"work_order": "work order", "estimate": "estimate", "service_report": "service report"}


def read_number(form: Form) -> str | None:
    """An optional hand-typed document number (work order, estimate, report)."""
    number = form.text("number", required=False, max_length=32)
    if number is not None and not NUMBER.match(number):
        form.error("number", "Use letters, digits and . _ / - only (at most 32).")
        return None
    return number
