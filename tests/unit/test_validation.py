from datetime import timedelta

import pytest

from porchlight.clock import isoformat, utcnow
from porchlight.errors import InvalidInput
from porchlight.validation import Form


def errors_of(data, read):
    form = Form(data)
    read(form)
    with pytest.raises(InvalidInput) as info:
        form.check()
    return info.value.fields


def test_body_must_be_a_mapping():
    for bad in (None, [], "x", 3):
        with pytest.raises(InvalidInput):
            Form(bad)


@pytest.mark.parametrize("value, message", [
    (None, "required"), ("   ", "required"), (42, "text"), ("x" * 201, "at most 200"),
    ("bell\x07", "not allowed"), ("line\nbreak", "not allowed"), ("rtl\u202eoverride", "not allowed"),
])
def test_text_refuses(value, message):
    fields = errors_of({"name": value}, lambda f: f.text("name", max_length=200))
    assert message in fields["name"]


def test_text_strips_and_keeps_newlines_when_multiline():
    form = Form({"a": "  hi  ", "b": "one\ntwo"})
    assert form.text("a") == "hi"
    assert form.text("b", multiline=True) == "one\ntwo"
    form.check()


@pytest.mark.parametrize("value", ["no-at", "a@b", "a b@example.com", "a@-x.com", "@example.com"])
def test_email_refuses(value):
    assert "email" in errors_of({"email": value}, lambda f: f.email("email"))


def test_email_lowercases_domain_only():
    assert Form({"e": "Alex.M@Example.COM"}).email("e") == "Alex.M@example.com"


@pytest.mark.parametrize("value", ["123", "call me", "+44 (0) 20 7946 0123 ext 4", "++++++"])
def test_phone_refuses(value):
    assert "phone" in errors_of({"phone": value}, lambda f: f.phone("phone"))


def test_choices_colours_currencies_zones():
    fields = errors_of(
        {"s": "done", "c": "blue", "cur": "eur", "tz": "Mars/Olympus"},
        lambda f: (f.choice("s", ["new"]), f.colour("c"), f.currency("cur"), f.timezone("tz")),
    )
    assert set(fields) == {"s", "c", "cur", "tz"}


def test_defaults_apply_when_missing():
    form = Form({})
    assert form.currency("currency", default="EUR") == "EUR"
    assert form.timezone("timezone", default="UTC") == "UTC"
    assert form.colour("brand_colour", default="#112233") == "#112233"
    form.check()


@pytest.mark.parametrize("value", [
    "http://example.com/logo.png", "javascript:alert(1)", "https://user:pw@example.com/x.png", "https://",
])
def test_https_url_refuses(value):
    assert "logo" in errors_of({"logo": value}, lambda f: f.https_url("logo"))


@pytest.mark.parametrize("value", [
    "yesterday", "2020-01-01T00:00:00Z", "2999-01-01T00:00:00", 1700000000, "2999-13-01T00:00:00Z",
])
def test_future_datetime_refuses(value):
    assert "at" in errors_of({"at": value}, lambda f: f.future_datetime("at"))


def test_future_datetime_accepts_offsets():
    moment = utcnow() + timedelta(hours=1)
    parsed = Form({"at": isoformat(moment)}).future_datetime("at")
    assert parsed == moment


@pytest.mark.parametrize("value", [[], ["view", "fly"], "view", [1]])
def test_subset_refuses(value):
    assert "p" in errors_of({"p": value}, lambda f: f.subset("p", ["view", "respond"]))


def test_subset_dedupes_in_stable_order():
    assert Form({"p": ["respond", "view", "view"]}).subset("p", ["view", "respond"]) == [
        "view", "respond"
    ]


def test_unknown_fields_are_named():
    fields = errors_of({"name": "x", "admin": True}, lambda f: (f.text("name"), f.reject_unknown(["name"])))
    assert fields == {"admin": "Unknown field."}


def test_partial_form_ignores_missing_but_not_null_required():
    form = Form({}, partial=True)
    assert form.text("title") is None
    form.check()
