"""The staff API described as an OpenAPI 3.1 document, served at ``GET /api/v1/openapi.json``.

Enumerations (statuses, languages, entity types, permissions, file types) and limits come
from the modules that enforce them, so the description cannot drift from the code. Lengths
and patterns mirror ``porchlight.validation``, ``services.documents.money`` and the services'
forms; ``tests/unit/test_openapi.py`` checks that every route of the app is described here,
that every field the services answer with is listed, and that every ``$ref`` resolves.
"""

from __future__ import annotations

import copy
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from porchlight import share_tokens
from services.documents import estimates as estimate_rules
from services.documents import money
from services.documents import service_reports as report_rules
from services.documents.work_orders import STATUSES, TRANSITIONS
from services.identity.models import LANGUAGES
from services.identity.repository import API_KEY_PREFIX
from services.signatures.models import ENTITY_TYPES as EVIDENCE_ENTITY_TYPES
from services.signatures.models import KINDS as EVIDENCE_KINDS

Schema = dict[str, Any]

ID_PATTERN = r"^[0-9a-f]{24}$"
PHONE_PATTERN = r"^\+?[0-9 ()./-]{5,30}$"
NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$"
TOKEN_PATTERN = "^(" + "|".join(share_tokens.PREFIXES.values()) + ")_[0-9a-f]{40}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
# money.to_decimal: digits with an optional fraction; no exponent, NaN, Infinity or separators.
DECIMAL_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"
CERTIFICATE_PATTERN = r"^cert_[0-9a-f]{32}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
MB = 1024 * 1024

MONEY_RULES = (
    "Money: every `*_minor` field is an integer number of the currency's minor unit (EUR has "
    f"{money.exponent('EUR')} decimal places, JPY {money.exponent('JPY')}, KWD "
    f"{money.exponent('KWD')}); every other amount is a plain decimal string with exactly that "
    'many places, e.g. `"48.68"`. Each line\'s net amount is quantity × unit price, rounded half-up '
    "to the minor unit; its tax is that net amount × the line's tax rate, rounded half-up per line. "
    "Subtotal, tax and total are exact sums of the included lines' integers, so adding up the "
    "shown line amounts gives the shown totals."
)
DECIMAL_RULES = (
    'Numbers are sent as plain decimal strings such as `"12.50"`, or as integers: no exponent '
    "(`1e3`), no thousands separators, no NaN or Infinity. Strings are safest; a JSON fraction is "
    "read as its shortest decimal spelling."
)

# status -> (component name, error code, when it happens); the examples are built from it.
ERRORS: dict[str, tuple[str, str, str]] = {
    "400": ("BadBody", "bad_request",
            "The request body is not a JSON object (send Content-Type: application/json)."),
    "401": ("Unauthorized", "unauthorized",
            "The Authorization header is missing, or the API key is unknown or revoked."),
    "404": ("NotFound", "not_found",
            "No such record in this workspace. Another workspace's ids answer the same way."),
    "409": ("Conflict", "conflict", "The request is valid but the record's state forbids it."),
    "413": ("TooLarge", "request_entity_too_large",
            "The request body is larger than the gateway accepts (a little more than the largest "
            "allowed upload, leaving room for multipart framing)."),
    "422": ("ValidationFailed", "invalid",
            "Some fields need attention; `fields` names each one with a message."),
    "503": ("Unavailable", "unavailable",
            "A Porchlight service is not answering; retry after the `Retry-After` delay."),
}
ERROR_HEADERS: dict[str, dict[str, Schema]] = {
    "401": {"WWW-Authenticate": {"description": 'Always `Bearer realm="porchlight"`.',
                                 "schema": {"type": "string"}}},
    "503": {"Retry-After": {"description": "Seconds to wait before retrying.",
                            "schema": {"type": "integer"}}},
}


# -- schema helpers ----------------------------------------------------------------------
def ref(name: str, kind: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


def text(max_length: int, description: str, **extra: Any) -> Schema:
    return {"type": "string", "maxLength": max_length, "description": description, **extra}


def enum(values: tuple[str, ...] | list[str], description: str, **extra: Any) -> Schema:
    return {"type": "string", "enum": list(values), "description": description, **extra}


def timestamp(description: str, *, null: bool = False) -> Schema:
    schema = {"type": "string", "format": "date-time", "description": description}
    return nullable(schema) if null else schema


def obj(
    properties: dict[str, Schema], required: tuple[str, ...] = (), *, closed: bool = False,
    description: str | None = None,
) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def record(properties: dict[str, Schema], description: str) -> Schema:
    """A response object: every listed field is always present (possibly null)."""
    return obj(properties, tuple(properties), description=description)


def listing(key: str, item: str) -> Schema:
    return obj({key: {"type": "array", "items": ref(item)}}, (key,))


def maybe(name: str, description: str) -> Schema:
    """A referenced object, or null."""
    return {"anyOf": [ref(name), {"type": "null"}], "description": description}


def decimal(description: str, **extra: Any) -> Schema:
    """A number as ``money.to_decimal`` reads it; ``extra`` bounds the integer spelling."""
    return {"type": ["string", "integer"], "pattern": DECIMAL_PATTERN, "description": description,
            **extra}


def minor(description: str) -> Schema:
    return {"type": "integer", "description": description + " In minor units."}


def amount(description: str) -> Schema:
    return {"type": "string",
            "description": description + " A decimal string with the currency's places, e.g. 48.68."}


def _words(values: tuple[str, ...]) -> str:
    return " or ".join(", ".join(values).rsplit(", ", 1))


def _choices(table: dict[str, Any], order: tuple[str, ...]) -> str:
    return "; ".join(
        f"{name} → {', '.join(x for x in order if x in table[name]) or 'none (final)'}"
        for name in table
    )


# -- components ---------------------------------------------------------------------------
ID: Schema = {"type": "string", "pattern": ID_PATTERN, "description": "An id from the API."}
WORKSPACE_ID: Schema = {**ID, "description": "The workspace the record belongs to (the API key's)."}
STATUS = enum(STATUSES, "Where the job stands.")
MOVES = "Allowed moves: " + _choices(TRANSITIONS, STATUSES) + "."
ENTITY_TYPE = enum(share_tokens.ENTITY_TYPES, "Kind of record the link opens.")
CURRENCY: Schema = {"type": "string", "pattern": CURRENCY_PATTERN,
                    "description": "ISO 4217 code; fixed when the estimate is created."}
SHA256: Schema = {"type": "string", "pattern": SHA256_PATTERN, "description": "SHA-256, lowercase hex."}
CERTIFICATE_ID: Schema = {"type": "string", "pattern": CERTIFICATE_PATTERN,
                          "description": "The id of the evidence of a customer's answer or signature."}
ESTIMATE_STATUS = enum(
    estimate_rules.STATUSES,
    f"Where the offer stands. A new estimate is draft; sending makes it sent. While it is "
    f"{_words(estimate_rules.OPEN)} the customer can accept (approved) or decline (rejected), and "
    "after `valid_until` it is expired; an approved estimate can be converted into a work order "
    "(converted).",
)
REPORT_STATUS = enum(
    report_rules.STATUSES,
    "Where the report stands: a draft is edited and collects files; completing it makes it wait "
    "for the customer's signature in the portal; then it is signed and its PDF is rendered.",
)
UPLOAD_TYPES = ", ".join(report_rules.ALLOWED_TYPES)
UPLOAD_LIMITS = (
    f"Allowed types: {UPLOAD_TYPES}; the declared type must match the file's content. At most "
    f"{report_rules.MAX_FILE_BYTES // MB} MB ({report_rules.MAX_FILE_BYTES} bytes) per file and "
    f"{report_rules.MAX_ATTACHMENTS} files per report."
)


def work_order_fields(*, patch: bool) -> dict[str, Schema]:
    """The editable fields; in a patch an optional field sent as null or "" is cleared."""
    return {
        "title": text(200, "Short name of the job.", minLength=1),
        "status": {**STATUS, "description": MOVES} if patch else {**STATUS, "default": "new"},
        "description": nullable(text(10_000, "What is to be done; may span lines.")),
        "location": nullable(text(500, "Where the work happens; may span lines.")),
        "customer_id": nullable({**ID, "description": "A customer of the same workspace."}),
        "internal_notes": nullable(text(10_000, "Staff-only notes, never shown to customers.")),
    }


def estimate_fields(*, patch: bool) -> dict[str, Schema]:
    """As for work orders: in a patch an optional field sent as null or "" is cleared."""
    lines = (f"1 to {estimate_rules.MAX_LINES} lines, at least one of them not optional. "
             "Lines get the ids l1, l2, … in the order sent.")
    return {
        "title": text(200, "Short name of the offer.", minLength=1),
        "customer_id": nullable({**ID, "description": "A customer of the same workspace."}),
        "valid_until": text(
            10, "The last day the offer can be accepted, today or later in the workspace's time "
            "zone; it expires at the following midnight there."
            + (" Null changes nothing." if patch else ""), format="date"),
        "notes": nullable(text(20_000, "Shown to the customer with the lines; may span lines.")),
        "line_items": {
            "type": "array", "items": ref("LineItemInput"), "minItems": 1,
            "maxItems": estimate_rules.MAX_LINES,
            "description": ("Replaces every line. " if patch else "") + lines,
        },
    }


def minted(fields: dict[str, Schema], description: str) -> Schema:
    """A response carrying a freshly minted share link next to ``fields``."""
    return record({
        **fields,
        "token": {"type": "string", "pattern": TOKEN_PATTERN,
                  "description": "The secret token; shown only in this response."},
        "url": {"type": "string", "format": "uri",
                "description": "The portal address to send to the customer."},
        "share_token": ref("ShareToken"),
    }, description)


def estimate_schemas() -> dict[str, Schema]:
    when = "When the estimate was {}.".format
    return {
        "Estimate": record({
            "id": ID,
            "workspace_id": WORKSPACE_ID,
            "number": {"type": "string", "description": "Human number, e.g. EST-0001."},
            "title": {"type": "string"},
            "customer_id": nullable(ID),
            "currency": CURRENCY,
            "valid_until": {"type": "string", "format": "date",
                            "description": "The last day it can be accepted (workspace time zone)."},
            "expires_at": timestamp("The moment it expires: midnight after `valid_until`, in UTC."),
            "notes": nullable({"type": "string"}),
            "status": ESTIMATE_STATUS,
            "revision": {"type": "integer", "minimum": 1, "description":
                         "Goes up when a sent estimate is edited; customers answer one revision."},
            "line_items": {"type": "array", "items": ref("PricedLine")},
            "subtotal_minor": minor("Sum of the included lines' net amounts."),
            "tax_minor": minor("Sum of the included lines' tax."),
            "total_minor": minor("Subtotal plus tax."),
            "subtotal": amount("`subtotal_minor`."),
            "tax": amount("`tax_minor`."),
            "total": amount("`total_minor`."),
            "sent_at": timestamp(when("first sent"), null=True),
            "approved_at": timestamp(when("accepted"), null=True),
            "rejected_at": timestamp(when("declined"), null=True),
            "expired_at": timestamp(when("marked expired"), null=True),
            "converted_at": timestamp(when("converted"), null=True),
            "work_order_id": nullable({**ID, "description": "The work order it became."}),
            "outcome": maybe("EstimateOutcome", "The customer's answer, once there is one."),
            "created_at": timestamp(when("created")),
            "updated_at": timestamp(when("last changed")),
        }, "An offer to a customer, priced in the workspace's currency. " + MONEY_RULES
           + " Until the customer answers, optional lines are not included in the totals; after "
           "an answer, the optional lines they chose are."),
        "PricedLine": record({
            "id": {"type": "string", "description": "The line's id within the estimate: l1, l2, …"},
            "description": {"type": "string"},
            "quantity": {"type": "string", "description": "As sent, a decimal string."},
            "unit_price": amount("The unit price."),
            "unit_price_minor": minor("The unit price."),
            "tax_rate": {"type": "string", "description": "Percent, a decimal string."},
            "optional": {"type": "boolean", "description": "The customer chooses whether to take it."},
            "included": {"type": "boolean", "description": "Whether it counts in the totals."},
            "net_minor": minor("Quantity × unit price, rounded half-up."),
            "tax_minor": minor("Net amount × tax rate ÷ 100, rounded half-up, per line."),
        }, "A line with its amounts. " + MONEY_RULES),
        "LineItemInput": obj({
            "description": text(500, "What is offered; may span lines.", minLength=1),
            "quantity": decimal(
                f"Above 0 and at most {estimate_rules.MAX_QUANTITY}, with at most 3 decimal places.",
                exclusiveMinimum=0, maximum=int(estimate_rules.MAX_QUANTITY)),
            "unit_price": decimal(
                "Price of one unit before tax, in the currency's major unit (12.50 is twelve euros "
                "fifty), with at most as many decimal places as the currency has; at least 0 and "
                f"at most {estimate_rules.MAX_UNIT_PRICE_MINOR} minor units.", minimum=0),
            "tax_rate": decimal("Percent, from 0 to 100, with at most 3 decimal places.",
                                minimum=0, maximum=100, default="0"),
            "optional": {"type": "boolean", "default": False,
                         "description": "Offered as an option the customer may take or leave."},
        }, ("description", "quantity", "unit_price"), closed=True,
            description=DECIMAL_RULES + " Errors are reported as `line_items[<index>].<field>`."),
        "EstimateInput": obj({
            "number": text(32, "Your own number; by default the next EST-nnnn is taken.",
                           pattern=NUMBER_PATTERN),
            "currency": {**CURRENCY, "description": "ISO 4217 code; by default the workspace's. "
                         "It cannot be changed later."},
            **estimate_fields(patch=False),
        }, ("title", "valid_until", "line_items"), closed=True,
            description="Text is trimmed. " + DECIMAL_RULES),
        "EstimatePatch": obj(
            estimate_fields(patch=True), closed=True,
            description="Only the fields sent change; `title` cannot be cleared. Allowed while "
            f"the estimate is {_words(estimate_rules.EDITABLE)}. Editing a sent estimate makes a new "
            "revision: the customer sees it at once, and an answer to the older one is refused.",
        ),
        "EstimateOutcome": record({
            "response": enum(("accept", "decline"), "What the customer answered."),
            "revision": {"type": "integer", "minimum": 1, "description": "The revision answered."},
            "signer_name": nullable({"type": "string", "description": "The name typed to accept."}),
            "reason": nullable({"type": "string", "description": "Why the customer declined."}),
            "included_optional": {"type": "array", "items": {"type": "string"},
                                  "description": "Ids of the optional lines the customer took."},
            "total_minor": nullable(minor("The total the customer accepted or declined.")),
            "total": amount("`total_minor`."),
            "certificate_id": nullable({**CERTIFICATE_ID, "description":
                                        "The evidence; null only for the moment it is recorded."}),
            "snapshot_sha256": nullable({**SHA256, "description": "SHA-256 of what the customer saw."}),
            "ip": {"type": "string", "description": "The customer's IP address."},
            "user_agent": nullable({"type": "string", "description": "The customer's browser."}),
        }, "The customer's answer as the server recorded it; the full record is in Evidence."),
        "SentEstimate": minted({"estimate": ref("Estimate")},
                               "The sent estimate and a new link the customer can view and answer with."),
        "ConvertedEstimate": record({
            "work_order": ref("WorkOrder"),
            "estimate": ref("Estimate"),
        }, "The work order made from the estimate, and the estimate now pointing at it."),
    }


def service_report_schemas() -> dict[str, Schema]:
    attachment = record({
        "id": {**ID, "description": "The stored file's id."},
        "filename": {"type": "string"},
        "content_type": enum(report_rules.ALLOWED_TYPES, "The file's type, checked against its content."),
        "size": {"type": "integer", "minimum": 1, "maximum": report_rules.MAX_FILE_BYTES,
                 "description": "Bytes."},
    }, "A photo or PDF on the report.")
    number = "Your own number; by default the next SR-nnnn is taken."
    return {
        "ServiceReport": record({
            "id": ID,
            "workspace_id": WORKSPACE_ID,
            "number": {"type": "string", "description": "Human number, e.g. SR-0001."},
            "work_order_id": {**ID, "description": "The work order it reports on."},
            "work_order_number": nullable({"type": "string"}),
            "work_order_title": nullable({"type": "string"}),
            "narrative": nullable({"type": "string", "description": "What was done."}),
            "status": REPORT_STATUS,
            "attachments": {"type": "array", "items": attachment,
                            "maxItems": report_rules.MAX_ATTACHMENTS},
            "completed_at": timestamp("When the appointment was marked done.", null=True),
            "signed_by": nullable({"type": "string", "description": "The name the customer typed."}),
            "signed_at": timestamp("When the customer signed.", null=True),
            "signed_ip": nullable({"type": "string", "description": "The signer's IP address."}),
            "signed_user_agent": nullable({"type": "string", "description": "The signer's browser."}),
            "certificate_id": nullable({**CERTIFICATE_ID, "description": "The signature's evidence."}),
            "snapshot_sha256": nullable({**SHA256, "description": "SHA-256 of what the customer signed."}),
            "pdf": record({
                "ready": {"type": "boolean", "description": "Whether the signed PDF can be downloaded."},
                "file_id": nullable(ID),
                "sha256": nullable({**SHA256, "description": "SHA-256 of the signed PDF."}),
            }, "The signed PDF, rendered in the background after the customer signs."),
            "created_at": timestamp("When the report was created."),
        }, "What was done at an appointment, with photos, for the customer to sign."),
        "ServiceReportInput": obj({
            "number": text(32, number, pattern=NUMBER_PATTERN),
            "work_order_id": {**ID, "description": "A work order of the same workspace."},
            "narrative": nullable(text(20_000, "What was done; may span lines.")),
        }, ("work_order_id",), closed=True, description="Text is trimmed."),
        "ServiceReportPatch": obj({
            "narrative": nullable(text(20_000, "What was done; null or \"\" clears it.")),
        }, closed=True, description="Only a draft report can be edited."),
        "CompletedServiceReport": minted(
            {"service_report": ref("ServiceReport")},
            "The report awaiting signature and a new link the customer can view and sign with."),
    }


def schemas() -> dict[str, Schema]:
    permissions = {
        "type": "array", "minItems": 1,
        "items": enum(share_tokens.PERMISSIONS, "What the link lets its holder do."),
        "description": "Allowed per entity type: "
        + _choices(share_tokens.ALLOWED_PERMISSIONS, share_tokens.PERMISSIONS) + ".",
    }
    return {
        "Customer": record({
            "id": ID,
            "workspace_id": WORKSPACE_ID,
            "name": {"type": "string"},
            "email": nullable({"type": "string", "format": "email"}),
            "phone": nullable({"type": "string"}),
            "preferred_language": enum(LANGUAGES, "Language for messages to the customer."),
            "created_at": timestamp("When the customer was added."),
        }, "A customer of the workspace."),
        "CustomerInput": obj({
            "name": text(160, "Full name or company name.", minLength=1),
            "email": nullable(text(254, "Email address; the domain is lower-cased.",
                                   format="email")),
            "phone": nullable(text(30, "Digits, spaces, +, -, ( and ); at least 5 digits.",
                                   pattern=PHONE_PATTERN)),
            "preferred_language": enum(LANGUAGES, "Language for messages.", default="en"),
        }, ("name",), closed=True,
            description="Text is trimmed. Give an email address or a phone number (or both)."),
        "WorkOrder": record({
            "id": ID,
            "workspace_id": WORKSPACE_ID,
            "number": {"type": "string", "description": "Human number, e.g. WO-0001."},
            "title": {"type": "string"},
            "status": STATUS,
            "status_label": {"type": "string", "description": "The status in customer words."},
            "description": nullable({"type": "string"}),
            "location": nullable({"type": "string"}),
            "customer_id": nullable(ID),
            "estimate_id": nullable({**ID, "description": "The estimate this job was converted from."}),
            "internal_notes": nullable({"type": "string"}),
            "completed_at": timestamp("When the job was completed.", null=True),
            "created_at": timestamp("When the work order was created."),
            "updated_at": timestamp("When the work order last changed."),
        }, "A job for a customer, as staff see it (internal notes included)."),
        "WorkOrderInput": obj({
            "number": text(32, "Your own number; by default the next WO-nnnn is taken.",
                           pattern=NUMBER_PATTERN),
            **work_order_fields(patch=False),
        }, ("title",), closed=True, description="Text is trimmed."),
        "WorkOrderPatch": obj(
            work_order_fields(patch=True), closed=True,
            description="Only the fields sent change. `title` and `status` cannot be cleared.",
        ),
        "ShareToken": record({
            "id": ID,
            "workspace_id": WORKSPACE_ID,
            "entity": obj({"type": ENTITY_TYPE, "id": ID}, ("type", "id")),
            "last4": {"type": "string", "description": "Last characters of the token."},
            "permissions": permissions,
            "created_at": timestamp("When the link was minted."),
            "created_by": {"type": "string", "description": "Who minted it, e.g. api_key:<id>."},
            "expires_at": timestamp("When the link stops working; null: never.", null=True),
            "revoked_at": timestamp("When the link was revoked.", null=True),
            "rotated_from": nullable({**ID, "description": "The token this one replaced."}),
            "last_accessed_at": timestamp("When the link was last opened.", null=True),
            "access_count": {"type": "integer", "minimum": 0},
        }, "A share link's record. The token itself is never shown again after minting."),
        "ShareTokenInput": obj({
            "entity": obj({"type": ENTITY_TYPE, "id": ID}, ("type", "id")),
            "permissions": {**permissions, "default": ["view"]},
            "expires_at": nullable(text(40, "ISO 8601 with a UTC offset, in the future.",
                                        format="date-time")),
        }, ("entity",), closed=True),
        "MintedShareToken": minted({}, "A freshly minted link."),
        **estimate_schemas(),
        **service_report_schemas(),
        "Evidence": record({
            "certificate_id": CERTIFICATE_ID,
            "workspace_id": WORKSPACE_ID,
            "kind": enum(EVIDENCE_KINDS, "What the customer did: accepted or declined an estimate, "
                         "or signed a service report."),
            "entity_type": enum(EVIDENCE_ENTITY_TYPES, "Kind of record answered."),
            "entity_id": ID,
            "entity_number": {"type": "string", "description": "The record's number, e.g. EST-0001."},
            "revision": {"type": "integer", "minimum": 1,
                         "description": "The revision the customer was shown."},
            "signer_name": {"type": "string", "description": "The name the customer typed."},
            "signature_path": nullable({"type": "string",
                                        "description": "The drawn signature as stored (signatures only)."}),
            "signature_svg": nullable({"type": "string",
                                       "description": "The drawn signature as an SVG image."}),
            "reason": nullable({"type": "string", "description": "Why the customer declined."}),
            "snapshot": {"type": "object", "description":
                         "Exactly what the customer was shown, hashed into `snapshot_sha256`. "
                         "An estimate's snapshot follows the money rules of Estimate: integers "
                         "in `*_minor` fields, decimal strings elsewhere."},
            "snapshot_sha256": {**SHA256, "description": "SHA-256 of the snapshot's canonical JSON."},
            "ip": {"type": "string", "description": "The customer's IP address."},
            "user_agent": nullable({"type": "string", "description": "The customer's browser."}),
            "signed_at": timestamp("When the answer was recorded."),
        }, "Everything recorded when a customer answered an estimate or signed a report. It is "
           "never changed; staff see the IP address and device, public certificates do not."),
        "Error": record({"error": record({
            "code": {"type": "string", "description": "Stable machine-readable code."},
            "message": {"type": "string", "description": "A sentence for a human."},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Field name (or query parameter) → what is wrong."},
        }, "What went wrong.")}, "Every error answer has this shape."),
    }


def error_responses() -> dict[str, Schema]:
    responses = {}
    for status, (name, code, description) in ERRORS.items():
        example = {"error": {"code": code, "message": description, "fields": {}}}
        if status == "422":
            example["error"]["fields"] = {"title": "This field is required."}
        response: Schema = {"description": description, "content": {
            "application/json": {"schema": ref("Error"), "example": example}}}
        if status in ERROR_HEADERS:
            response["headers"] = ERROR_HEADERS[status]
        responses[name] = response
    return responses


# -- operations ---------------------------------------------------------------------------
def json_content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def path_param(name: str, description: str, schema: Schema = ID) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}


def query_param(name: str, schema: Schema, *, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def upload_content(field: str, types: tuple[str, ...], description: str) -> Schema:
    """A multipart/form-data body carrying one file in ``field``."""
    return {"multipart/form-data": {
        "schema": obj({field: {"type": "string", "contentMediaType": "application/octet-stream",
                               "description": description}}, (field,)),
        "encoding": {field: {"contentType": ", ".join(types)}},
    }}


def operation(
    operation_id: str, tag: str, summary: str, description: str, ok: tuple[str, str, Schema],
    *, errors: tuple[str, ...] = (), body: str | None = None, upload: Schema | None = None,
    params: tuple[Schema, ...] = (), public: bool = False, media: str = "application/json",
    headers: dict[str, Schema] | None = None, notes: dict[str, str] | None = None,
) -> Schema:
    """One operation; authenticated ones can always answer 401 and 503.

    ``body`` names a JSON request schema (so a non-object body is a 400); ``upload`` is a
    multipart body instead. ``media`` and ``headers`` describe the success answer; ``notes``
    replace an error's shared description where this operation means something narrower."""
    status, ok_description, schema = ok
    op: Schema = {"operationId": operation_id, "tags": [tag], "summary": summary,
                  "description": description}
    if params:
        op["parameters"] = list(params)
    if body:
        op["requestBody"] = {"required": True, "content": json_content(ref(body))}
        errors = ("400", *errors)
    elif upload:
        op["requestBody"] = {"required": True, "content": upload}
    if public:
        op["security"] = []
    else:
        errors = (*errors, "401", "503")
    success: Schema = {"description": ok_description, "content": {media: {"schema": schema}}}
    if headers:
        success["headers"] = headers
    op["responses"] = {status: success}
    for s in sorted(errors):
        op["responses"][s] = ref(ERRORS[s][0], "responses")
        if notes and s in notes:
            op["responses"][s]["description"] = notes[s]
    return op


def paths() -> dict[str, Schema]:
    customer = [path_param("customer_id", "The customer's id.")]
    work_order = [path_param("work_order_id", "The work order's id.")]
    token = [path_param("token_id", "The share token's id (not the token itself).")]
    estimate = [path_param("estimate_id", "The estimate's id.")]
    report = [path_param("report_id", "The service report's id.")]
    certificate = [path_param("certificate_id", "The certificate id, as printed on signed PDFs.",
                              CERTIFICATE_ID)]
    line_errors = {"422": "Some fields need attention; errors in a line are named like "
                          "`line_items[0].quantity`."}
    upload_limit = report_rules.MAX_FILE_BYTES // MB
    entity_query = (
        query_param("entity_type", ENTITY_TYPE, required=True),
        query_param("entity_id", ID, required=True),
    )
    return {
        "/api/v1/customers": {
            "post": operation(
                "createCustomer", "customers", "Add a customer",
                "Creates a customer in the workspace. It needs an email address or a phone.",
                ("201", "The new customer.", ref("Customer")),
                body="CustomerInput", errors=("422",)),
            "get": operation(
                "listCustomers", "customers", "List customers",
                "The workspace's customers sorted by name, at most 100.",
                ("200", "The customers.", listing("customers", "Customer"))),
        },
        "/api/v1/customers/{customer_id}": {
            "parameters": customer,
            "get": operation(
                "getCustomer", "customers", "Get a customer", "One customer of the workspace.",
                ("200", "The customer.", ref("Customer")), errors=("404",)),
        },
        "/api/v1/work-orders": {
            "post": operation(
                "createWorkOrder", "work orders", "Create a work order",
                "Creates a work order, numbered automatically unless `number` is given. "
                "A number already used in the workspace is a conflict.",
                ("201", "The new work order.", ref("WorkOrder")),
                body="WorkOrderInput", errors=("409", "422")),
            "get": operation(
                "listWorkOrders", "work orders", "List work orders",
                "The workspace's work orders, newest first, at most 100.",
                ("200", "The work orders.", listing("work_orders", "WorkOrder")),
                params=(query_param("status", STATUS),), errors=("422",)),
        },
        "/api/v1/work-orders/{work_order_id}": {
            "parameters": work_order,
            "get": operation(
                "getWorkOrder", "work orders", "Get a work order",
                "One work order, internal notes included.",
                ("200", "The work order.", ref("WorkOrder")), errors=("404",)),
            "patch": operation(
                "updateWorkOrder", "work orders", "Change a work order",
                "Changes only the fields sent. A status change must be an allowed move; "
                "completed and cancelled work orders are final (409).",
                ("200", "The updated work order.", ref("WorkOrder")),
                body="WorkOrderPatch", errors=("404", "409", "422")),
        },
        "/api/v1/share-tokens": {
            "post": operation(
                "mintShareToken", "share tokens", "Mint a share link",
                "Creates a link that opens one record in the customer portal. The token is "
                "returned only here. Links can be minted for work orders only, for now; "
                "other entity types answer 404.",
                ("201", "The token, its portal address and its record.", ref("MintedShareToken")),
                body="ShareTokenInput", errors=("404", "422")),
            "get": operation(
                "listShareTokens", "share tokens", "List a record's share links",
                "Every link minted for one record, newest first, revoked ones included.",
                ("200", "The links.", listing("share_tokens", "ShareToken")),
                params=entity_query, errors=("404", "422")),
        },
        "/api/v1/share-tokens/{token_id}/revoke": {
            "parameters": token,
            "post": operation(
                "revokeShareToken", "share tokens", "Revoke a share link",
                "Stops the link from working. Revoking a revoked link changes nothing.",
                ("200", "The revoked link.", ref("ShareToken")), errors=("404",)),
        },
        "/api/v1/share-tokens/{token_id}/rotate": {
            "parameters": token,
            "post": operation(
                "rotateShareToken", "share tokens", "Replace a share link",
                "Revokes a live link and mints a new one with the same record, permissions "
                "and expiry. A revoked or expired link cannot be rotated (409).",
                ("201", "The replacement link.", ref("MintedShareToken")),
                errors=("404", "409")),
        },
        "/api/v1/estimates": {
            "post": operation(
                "createEstimate", "estimates", "Create an estimate",
                "Creates a draft estimate in the workspace's currency (unless `currency` is given), "
                "numbered automatically unless `number` is given. A number already used in the "
                "workspace is a conflict. Amounts follow the money rules of Estimate.",
                ("201", "The new estimate, priced.", ref("Estimate")),
                body="EstimateInput", errors=("409", "422"), notes=line_errors),
            "get": operation(
                "listEstimates", "estimates", "List estimates",
                "The workspace's estimates, newest first, at most 200.",
                ("200", "The estimates.", listing("estimates", "Estimate")),
                params=(query_param("status", ESTIMATE_STATUS),), errors=("422",)),
        },
        "/api/v1/estimates/{estimate_id}": {
            "parameters": estimate,
            "get": operation(
                "getEstimate", "estimates", "Get an estimate",
                "One estimate with its priced lines and the customer's answer, if any. An open "
                "estimate past its date is marked expired on the way.",
                ("200", "The estimate.", ref("Estimate")), errors=("404",)),
            "patch": operation(
                "updateEstimate", "estimates", "Change an estimate",
                f"Changes only the fields sent, while the estimate is {_words(estimate_rules.EDITABLE)}; "
                "otherwise, or if it changed meanwhile, 409. Editing a sent estimate makes a new "
                "revision the customer sees at once.",
                ("200", "The updated estimate.", ref("Estimate")),
                body="EstimatePatch", errors=("404", "409", "422"), notes=line_errors),
        },
        "/api/v1/estimates/{estimate_id}/send": {
            "parameters": estimate,
            "post": operation(
                "sendEstimate", "estimates", "Send an estimate",
                "Marks a draft sent (sending a sent one again changes nothing) and mints a link the "
                "customer can view and answer with. Each call mints a fresh link; earlier ones keep "
                "working until revoked. Any other state is a conflict (409).",
                ("201", "The estimate and its new link.", ref("SentEstimate")),
                errors=("404", "409")),
        },
        "/api/v1/estimates/{estimate_id}/convert": {
            "parameters": estimate,
            "post": operation(
                "convertEstimate", "estimates", "Turn an estimate into a work order",
                "Creates a work order from an accepted estimate and links the two. Repeating it "
                "returns the same work order; an estimate that is not accepted is a conflict (409).",
                ("200", "The work order and the converted estimate.", ref("ConvertedEstimate")),
                errors=("404", "409")),
        },
        "/api/v1/service-reports": {
            "post": operation(
                "createServiceReport", "service reports", "Create a service report",
                "Creates a draft report on a work order of the workspace, numbered automatically "
                "unless `number` is given. A number already used in the workspace is a conflict.",
                ("201", "The new report.", ref("ServiceReport")),
                body="ServiceReportInput", errors=("409", "422")),
            "get": operation(
                "listServiceReports", "service reports", "List service reports",
                "The workspace's service reports, newest first, at most 200.",
                ("200", "The reports.", listing("service_reports", "ServiceReport")),
                params=(query_param("work_order_id", {
                    **ID, "description": "Only this work order's reports."}),)),
        },
        "/api/v1/service-reports/{report_id}": {
            "parameters": report,
            "get": operation(
                "getServiceReport", "service reports", "Get a service report",
                "One service report with its attachments, signature and PDF state.",
                ("200", "The report.", ref("ServiceReport")), errors=("404",)),
            "patch": operation(
                "updateServiceReport", "service reports", "Change a service report",
                "Changes the narrative of a draft report; once completed the customer may have "
                "seen it, so editing is a conflict (409).",
                ("200", "The updated report.", ref("ServiceReport")),
                body="ServiceReportPatch", errors=("404", "409", "422")),
        },
        "/api/v1/service-reports/{report_id}/attachments": {
            "parameters": report,
            "post": operation(
                "addServiceReportAttachment", "service reports", "Attach a photo or PDF",
                "Uploads one file to a draft report as multipart/form-data in the field `file`. "
                + UPLOAD_LIMITS + " A report that is no longer a draft, or already full, is a "
                "conflict (409).",
                ("201", "The report with the new attachment.", ref("ServiceReport")),
                upload=upload_content("file", report_rules.ALLOWED_TYPES, UPLOAD_LIMITS),
                errors=("404", "409", "413", "422"), notes={
                    "413": f"The request is well over the {upload_limit} MB file limit; the gateway "
                           "refuses it before reading it.",
                    "422": f"The field `file` is missing or empty, over {upload_limit} MB, of a type "
                           "not allowed, or its content does not match its type.",
                }),
        },
        "/api/v1/service-reports/{report_id}/complete": {
            "parameters": report,
            "post": operation(
                "completeServiceReport", "service reports", "Complete a service report",
                "The appointment is done: the draft now awaits the customer's signature, and a "
                "link they can view and sign with is minted (a fresh one on every call; completing "
                "again changes nothing else). A signed report is a conflict (409).",
                ("201", "The report and its new link.", ref("CompletedServiceReport")),
                errors=("404", "409")),
        },
        "/api/v1/service-reports/{report_id}/pdf": {
            "parameters": report,
            "get": operation(
                "getSignedServiceReportPdf", "service reports", "Download the signed PDF",
                "The PDF rendered after the customer signed, as a download. It is rendered in the "
                "background: until it is ready (see `pdf.ready`) this answers 404 with a JSON error.",
                ("200", "The signed PDF.", {"type": "string", "contentMediaType": "application/pdf"}),
                media="application/pdf", errors=("404",), headers={
                    "X-Content-SHA256": {"description": "SHA-256 of the PDF, as in `pdf.sha256`.",
                                         "schema": SHA256},
                    "Content-Disposition": {"description": 'attachment; filename="<number>-signed.pdf"',
                                            "schema": {"type": "string"}},
                }, notes={"404": "No such report, the report is not signed yet, or its signed PDF "
                                 "is still being rendered (retry shortly)."}),
        },
        "/api/v1/evidence/{certificate_id}": {
            "parameters": certificate,
            "get": operation(
                "getEvidence", "evidence", "Get the evidence of an answer",
                "Everything recorded when a customer accepted or declined an estimate or signed a "
                "report: for disputes. Certificate ids appear on estimates, reports and signed PDFs.",
                ("200", "The evidence.", ref("Evidence")), errors=("404",)),
        },
        "/api/v1/openapi.json": {
            "get": operation(
                "getOpenApiDocument", "meta", "This description",
                "The OpenAPI document of this API. Needs no API key.",
                ("200", "An OpenAPI 3.1 document.", {"type": "object"}), public=True),
        },
        "/healthz": {
            "get": operation(
                "healthCheck", "meta", "Liveness check",
                "Answers while the gateway process runs; it does not call the services.",
                ("200", "The gateway is up.", obj({"status": {"const": "ok"}}, ("status",))),
                public=True),
        },
    }


def _package_version() -> str:
    try:
        return version("porchlight")
    except PackageNotFoundError:
        return "0.0.0"


def openapi_document(server_url: str) -> dict[str, Any]:
    """A fresh document each call; the shared fragments are copied so callers may mutate it."""
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {
            "title": "Porchlight staff API",
            "version": _package_version(),
            "description": "Manage the customers, work orders, estimates, service reports and "
            "share links of one workspace, and read the evidence of customers' answers. The API key "
            "names the workspace; records of other workspaces answer 404.",
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": "customers", "description": "The people and companies you work for."},
            {"name": "work orders", "description": "Jobs, with the status customers follow."},
            {"name": "estimates", "description": "Priced offers customers accept or decline."},
            {"name": "service reports", "description": "What was done, with photos, signed by "
             "the customer."},
            {"name": "evidence", "description": "The record behind every answer and signature."},
            {"name": "share tokens", "description": "Links that open a record in the portal."},
            {"name": "meta", "description": "About the API itself."},
        ],
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": f"{API_KEY_PREFIX}...",
                "description": f"A staff API key ({API_KEY_PREFIX}...) sent as "
                "`Authorization: Bearer <key>`.",
            }},
            "schemas": schemas(),
            "responses": error_responses(),
        },
    })
