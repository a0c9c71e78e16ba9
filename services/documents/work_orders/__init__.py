"""The work-order aggregate: the job as the customer follows it.

Its statuses and transitions are named here too, for the modules that describe the API.
"""

from services.documents.work_orders.rules import STATUSES, TRANSITIONS

__all__ = ["STATUSES", "TRANSITIONS"]
