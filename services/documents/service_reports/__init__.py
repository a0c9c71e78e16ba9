"""The service-report aggregate: what was done at an appointment, signed by the customer.

Its statuses and limits are named here too, for the modules that describe the API; the
files a report may carry are the files documents stores.
"""

from services.documents.files.rules import ALLOWED_TYPES, MAX_FILE_BYTES
from services.documents.service_reports.rules import MAX_ATTACHMENTS, STATUSES

__all__ = ["ALLOWED_TYPES", "MAX_ATTACHMENTS", "MAX_FILE_BYTES", "STATUSES"]
