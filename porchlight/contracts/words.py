"""The mark on a sentence a customer may read, written where it is said."""


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Mark a sentence for the catalogs (``make messages`` finds it); it travels in
    English and is translated where it is shown (``porchlight.runtime.i18n.translate``)."""
    return message
