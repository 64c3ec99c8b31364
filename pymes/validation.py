"""The error services raise when one form field breaks a rule, and numbers read from
what a user typed."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request


@dataclass
class FieldError(Exception):
    """A rule broken by one form field; routes show ``message`` beside ``field``."""

    field: str
    message: str


def apply_field_error(form, error: FieldError) -> None:
    """Put a service's error beside its field (or on top of the form)."""
    field = getattr(form, error.field, None)
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


_LINE_BREAKS = "\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_SINGLE_LINE = {c: None for c in range(0x20)} | {0x7F: None} | {c: None for c in range(0x80, 0xA0)} \
    | {ord(c): " " for c in _LINE_BREAKS}
_MULTI_LINE = dict(_SINGLE_LINE) | {ord("\n"): "\n", ord("\t"): "\t", 0x2028: "\n", 0x2029: "\n"}


def single_line(value: str) -> str:
    """``value`` with no control characters: line breaks and tabs become a space, the
    rest (NUL, escape, C1 controls…) go. For names, subjects, anything on one line."""
    return value.replace("\r\n", "\n").translate(_SINGLE_LINE)


def multi_line(value: str) -> str:
    """``value`` with its line breaks (as LF) and tabs kept, other control characters gone."""
    return value.replace("\r\n", "\n").replace("\r", "\n").translate(_MULTI_LINE)


def digits_int(value: str | None) -> int | None:
    """A number typed in an address or a form (a filter's id, a page) as an int; None for
    anything that is not 1 to 9 ASCII digits. ``str.isdigit`` alone also accepts "²" and
    other scripts' digits, which ``int()`` then refuses or reads unexpectedly."""
    if value and len(value) < 10 and value.isascii() and value.isdigit():
        return int(value)
    return None


def query_int(name: str) -> int | None:
    """``digits_int`` of the address's ``name`` argument (a filter's id, a page number):
    an odd value is ignored like a missing one."""
    return digits_int(request.args.get(name))
