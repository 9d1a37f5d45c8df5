"""Multipart bodies with parts that have no name: their fields are dropped, never handed on.

A part whose ``Content-Disposition`` carries no ``name`` becomes a form field or file keyed
``None`` in werkzeug; extensions that walk the form's keys as strings (Flask-WTF looks for the
CSRF field that way when the header is missing) then fail with a 500. No client of ours sends such
a part, and a part without a name cannot be any field we read, so it is dropped while parsing.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser


def named_only(fields: MultiDict[Any, Any]) -> MultiDict[Any, Any]:
    """The same kind of multi-dict without the entries whose key is None."""
    if None not in fields:
        return fields
    return type(fields)([(key, value) for key, value in fields.items(multi=True) if key is not None])


class NamedPartsParser(FormDataParser):
    """werkzeug's form parser, dropping the fields and files of parts without a name."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        """Parse as werkzeug does, then leave out what had no name."""
        stream, form, files = super().parse(*args, **kwargs)
        return stream, named_only(form), named_only(files)
