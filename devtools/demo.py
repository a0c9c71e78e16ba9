"""The demo workspace `make run` seeds, through the same doors staff use: the workspace
by RPC (as the CLI does), everything else through the admin API over HTTP.

The demo customer has an email address, so sending the estimate and completing the service
report each email them their link (the admin API's default): a newcomer finds both emails
in the outbox (``porchlight outbox``) and, with the local mail server, in ``.stack/mail/``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests

from porchlight.client import AmqpClient
from porchlight.contracts.clock import isoformat, utcnow

CUSTOMER_EMAIL = "alex.morgan@example.com"
# Alex's partner, a member of the customer's account who has signed in once already: a
# project can be shared only with a customer someone of whom has joined the portal.
MEMBER_EMAIL = "jamie.morgan@example.com"
PROJECT = {
    "name": "Kitchen and bathroom renovation",
    "description": "New kitchen with an island and a walk-in shower in the family bathroom: "
                   "first fix, plastering, second fix and tiling.",
    "status": "active", "progress": 40,
    "manager": {"name": "Dana Whitfield", "email": "dana@brightwater.example", "phone": "+44 20 7946 0456"},
}
# (title, assignee, status) and (days ago, hours, billable, an internal note)
PROJECT_TASKS = [("Strip out the old kitchen", "Sam Patel", "done"),
                 ("First-fix plumbing and wiring", "Sam Patel", "in_progress"),
                 ("Tile the shower enclosure", "Lee Okafor", "open")]
PROJECT_HOURS = [(6, "7.5", True, "Skip hire to be recharged"), (5, "8", True, None),
                 (2, "3.25", False, "Snagging visit, not billed")]
# (body, author) of the team's comments on the demo project
PROJECT_COMMENTS = [
    ("First-fix plumbing is under way. The revised kitchen layout is under Documents.", "Dana Whitfield"),
    ("The tiles arrive on Thursday; a photo of the sample is attached to the project.", "Dana Whitfield"),
]
# What the project asks the customer for: an information request, sent, with three items.
INFORMATION_REQUEST = {
    "title": "Choices for the bathroom",
    "items": [{"prompt": "Which tile did you choose for the shower walls? A photo of the box label "
                         "is perfect."},
              {"prompt": "Please send the building control approval letter (PDF or photo)."},
              {"prompt": "Which days in the next two weeks can we turn the water off for half a day?"}],
}
# A customer who reads French: her estimate's page, email and PDF are in French.
FRENCH_CUSTOMER_EMAIL = "camille.durand@example.fr"

WORK_ORDERS: list[dict[str, Any]] = [
    {
        "title": "Boiler service and safety check",
        "status": "scheduled",
        "description": "Annual service of the gas boiler in the utility room, including a "
                       "flue-gas analysis and a pressure test.",
        "location": "12 Orchard Lane\nRiverside, RS1 4AB",
        "internal_notes": "Gate code 4471. Dog on premises.",
    },
    {
        "title": "Replace leaking kitchen mixer tap",
        "status": "in_progress",
        "description": "The mixer tap drips from the base. We are fitting a new cartridge "
                       "tap of the customer's choice.",
        "location": "12 Orchard Lane\nRiverside, RS1 4AB",
        "internal_notes": "Customer supplies the tap; check model before visit.",
    },
    {
        "title": "Bathroom extractor fan installation",
        "status": "completed",
        "description": "Installed a humidity-controlled extractor fan and ducted it "
                       "through the loft to a new roof vent.",
        "location": "12 Orchard Lane\nRiverside, RS1 4AB",
        "internal_notes": "Invoice after sign-off.",
    },
    {
        "title": "Radiator valve replacement",
        "status": "on_hold",
        "description": "Waiting for the matching thermostatic valves to arrive.",
        "location": "12 Orchard Lane\nRiverside, RS1 4AB",
    },
]


def seed(client: AmqpClient, admin_url: str) -> dict[str, Any]:
    created = client.call(
        "identity", "create_workspace",
        {"name": "Brightwater Plumbing & Heating", "currency": "GBP",
         "timezone": "Europe/London", "brand_colour": "#0f766e"},
        "demo",
    )
    key = created["api_key"]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {key}"

    def post(path: str, body: dict[str, Any] | None = None, *,
             file: tuple[str, bytes, str] | None = None) -> dict[str, Any]:
        """JSON, or one file as multipart (``file``: name, bytes, type)."""
        sent = {"files": {"file": file}} if file is not None else {"json": body}
        response = http.post(admin_url + "/api/v1" + path, timeout=30, **sent)
        response.raise_for_status()
        return response.json()

    customer = post("/customers", {
        "name": "Alex Morgan", "email": CUSTOMER_EMAIL, "phone": "+44 20 7946 0123",
    })
    links = []
    for spec in WORK_ORDERS:
        wo = post("/work-orders", {**spec, "customer_id": customer["id"]})
        share = post("/share-tokens", {
            "entity": {"type": "work_order", "id": wo["id"]}, "permissions": ["view"],
            "expires_at": isoformat(utcnow() + timedelta(days=30)),
        })
        links.append({"work_order": wo, "url": share["url"], "share_token_id": share["share_token"]["id"]})
    first_wo = links[0]["work_order"]["id"]
    revoked = post("/share-tokens", {"entity": {"type": "work_order", "id": first_wo}})
    post(f"/share-tokens/{revoked['share_token']['id']}/revoke", {})
    estimate = post("/estimates", {
        "title": "Replace the hot-water cylinder", "customer_id": customer["id"],
        "valid_until": (utcnow() + timedelta(days=21)).date().isoformat(),
        "notes": "We will remove the old copper cylinder and fit a **150 litre unvented** "
                 "cylinder with a new expansion vessel.\n\nPrices include disposal of the old unit.",
        "line_items": [
            {"description": "Unvented cylinder, 150 l", "quantity": 1, "unit_price": "689.00",
             "tax_rate": "20"},
            {"description": "Labour (hours)", "quantity": "6.5", "unit_price": "54.50", "tax_rate": "20"},
            {"description": "Copper fittings and valves", "quantity": 1, "unit_price": "84.35",
             "tax_rate": "20"},
            {"description": "Magnetic system filter", "quantity": 1, "unit_price": "119.00",
             "tax_rate": "20", "optional": True},
        ],
    })
    # notify_customer left out: the customer is emailed, as by default for staff.
    sent = post(f"/estimates/{estimate['id']}/send", {})
    completed_wo = links[2]["work_order"]["id"]
    report = post("/service-reports", {
        "work_order_id": completed_wo,
        "narrative": "Fitted a humidity-controlled extractor fan above the shower.\n"
                     "Ducted through the loft to a new tile vent; sealed and tested.\n"
                     "Run-on timer set to 15 minutes.",
    })
    done = post(f"/service-reports/{report['id']}/complete", {})
    camille = post("/customers", {"name": "Camille Durand", "email": FRENCH_CUSTOMER_EMAIL,
                                  "preferred_language": "fr"})
    french = post("/estimates", {
        "title": "Remplacement de la chaudière", "customer_id": camille["id"],
        "valid_until": (utcnow() + timedelta(days=30)).date().isoformat(),
        "notes": "Dépose de l'ancienne chaudière et pose d'une chaudière à condensation.",
        "line_items": [
            {"description": "Chaudière à condensation 25 kW", "quantity": 1, "unit_price": "1045.00",
             "tax_rate": "20"},
            {"description": "Main-d'œuvre (heures)", "quantity": "5.5", "unit_price": "52.00",
             "tax_rate": "20"},
        ],
    })
    sent_fr = post(f"/estimates/{french['id']}/send", {})
    # A portal account for the customer, not invited yet: the newcomer invites it.
    contact = post(f"/customers/{customer['id']}/contacts", {
        "name": "Alex Morgan", "email": CUSTOMER_EMAIL, "role": "owner"})
    project = seed_project(post, client, customer["id"])
    seed_information_request(post, project["id"])
    return {
        "workspace": created["workspace"],
        "api_key": key,
        "customer": customer,
        "contact": contact,
        "links": links,
        "revoked_url": revoked["url"],
        "estimate_url": sent["url"],
        "french_estimate_url": sent_fr["url"],
        "service_report_url": done["url"],
        "project": project,
        # Each reply's ``customer_email``: {status: queued|skipped|unavailable, reason, email}.
        "customer_emails": {"Estimate": sent["customer_email"],
                            "Service report": done["customer_email"]},
    }


def seed_project(post: Any, client: AmqpClient, customer_id: str) -> dict[str, Any]:
    """A project for the demo customer (active, 40 % done, three tasks, some hours), shared
    with them at ``comment`` level. Sharing needs a contact of theirs who has joined: Jamie,
    a member, signs in once with a temporary password (as the office would give one) and
    signs out again."""
    jamie = post(f"/customers/{customer_id}/contacts", {
        "name": "Jamie Morgan", "email": MEMBER_EMAIL, "role": "member"})
    password = post(f"/customers/{customer_id}/contacts/{jamie['id']}/temporary-password", {})
    signed = client.call("identity", "sign_in_with_password",
                         {"email": MEMBER_EMAIL, "password": password["temporary_password"]})
    client.call("identity", "sign_out", signed["session"])
    project = post("/projects", {**PROJECT, "customer_id": customer_id})
    today = utcnow().date()
    for days_ago, hours, billable, note in PROJECT_HOURS:
        post(f"/projects/{project['id']}/time-entries", {
            "date": (today - timedelta(days=days_ago)).isoformat(), "hours": hours, "billable": billable,
            "note": note})
    for title, assignee, status in PROJECT_TASKS:
        post(f"/projects/{project['id']}/tasks", {"title": title, "assignee": assignee, "status": status})
    for name, content in (("Kitchen layout.pdf", layout_pdf()), ("Tile sample.png", tile_png())):
        post(f"/projects/{project['id']}/files", file=(name, content, "application/octet-stream"))
    for body, author in PROJECT_COMMENTS:
        post(f"/projects/{project['id']}/comments", {"body": body, "author_name": author})
    post("/share-grants", {"resource": {"type": "project", "id": project["id"]}, "level": "comment"})
    return project


def layout_pdf() -> bytes:
    """The demo project's drawing: the kitchen's plan with the island, as a one-page PDF."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", orientation="landscape")
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.cell(0, 10, "Kitchen layout, revision B (dimensions in mm)")
    pdf.set_font("Helvetica", size=10)
    pdf.rect(20, 30, 240, 150)  # the room, 4,800 x 3,000
    pdf.rect(20, 30, 240, 30)  # the worktop run along the back wall
    pdf.rect(100, 100, 96, 40)  # the island, 2,400 x 1,000
    for x, y, label in ((22, 45, "Worktop run with sink and hob"), (110, 120, "Island 2400 x 1000"),
                        (22, 170, "Door"), (200, 170, "Window 1200")):
        pdf.text(x, y, label)
    return bytes(pdf.output())


def tile_png() -> bytes:
    """The demo project's photo of the chosen tile: a small grid in its two colours."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 160), "#e7e5e4")
    draw = ImageDraw.Draw(image)
    for row in range(4):
        for column in range(6):
            draw.rectangle((column * 40 + 2, row * 40 + 2, column * 40 + 37, row * 40 + 37),
                           fill="#0f766e" if (row + column) % 2 else "#f5f5f4")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed_information_request(post: Any, project_id: str) -> dict[str, Any]:
    """An information request on the demo project, three items, sent: the project is
    shared, so its contacts who joined (Jamie) are emailed a link to it in their account."""
    made = post(f"/projects/{project_id}/information-requests", INFORMATION_REQUEST)
    return post(f"/information-requests/{made['id']}/send", {})["information_request"]
