"""What a document number may be, whether typed by staff or allocated."""

from __future__ import annotations

# What staff may type as a number is the contract's (porchlight.contracts.fields.DocumentNumber).
PREFIXES = {"work_order": "WO", "estimate": "EST", "service_report": "SR", "project": "PRJ",
            "information_request": "IR"}
LABELS = {"work_order": "work order", "estimate": "estimate", "service_report": "service report",
          "project": "project", "information_request": "information request"}
