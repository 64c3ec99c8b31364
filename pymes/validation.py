"""The error services raise when one form field breaks a rule."""
from __future__ import annotations

from dataclasses import dataclass


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
