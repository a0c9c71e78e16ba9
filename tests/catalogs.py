"""The sentences the code and the templates hold, read from them as ``make messages``
reads them, and a pseudo-language that marks each one where it is shown."""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from porchlight.runtime import i18n

ROOT = Path(__file__).resolve().parents[1]
# What the pseudo-language writes around every sentence it translates.
OPEN, CLOSE = "⟦", "⟧"


def extracted(folder: Path) -> Catalog:
    """Every sentence the sources mark for translation (``folder``: where to write the
    template)."""
    pot = folder / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(i18n.CATALOGS / "babel.cfg"),
                                "-k", "N_", "--no-location", "-o", str(pot), str(ROOT)])
    with pot.open("rb") as read:
        return read_po(read)


def pseudo(sources: Catalog) -> gettext.GNUTranslations:
    """A language in which every sentence reads as in English between ``OPEN`` and
    ``CLOSE``: a page in it shows at once any words that bypassed the catalog."""
    catalog = Catalog(locale="en")
    for message in sources:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            catalog.add(message.id, tuple(f"{OPEN}{form}{CLOSE}" for form in message.id), flags=message.flags)
        else:
            catalog.add(message.id, f"{OPEN}{message.id}{CLOSE}", flags=message.flags)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
