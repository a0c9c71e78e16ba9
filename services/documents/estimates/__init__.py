"""The estimate aggregate: an offer with priced lines, answered by the customer.

Its statuses and limits are named here too, for the modules that describe the API.
"""

from services.documents.estimates.rules import (
    EDITABLE,
    MAX_LINES,
    MAX_QUANTITY,
    MAX_UNIT_PRICE_MINOR,
    OPEN,
    STATUSES,
)

__all__ = ["EDITABLE", "MAX_LINES", "MAX_QUANTITY", "MAX_UNIT_PRICE_MINOR", "OPEN", "STATUSES"]
