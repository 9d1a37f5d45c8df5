"""Errors the recognizer raises: what a user did wrong (ImageRejected) and what we did wrong (ModelError)."""

from typing import Final

# Codes a client may see, with the HTTP status the API should answer (all user errors).
IMAGE_REJECTED_CODES: Final[frozenset[str]] = frozenset(
    {"empty_file", "not_an_image", "unsupported_format", "truncated_image", "image_too_large", "image_too_small",
     "image_too_narrow"}
)


class ImageRejected(ValueError):
    """An upload that cannot be analysed; ``message`` tells the person what to do instead."""

    def __init__(self, code: str, message: str) -> None:
        if code not in IMAGE_REJECTED_CODES:
            raise ValueError(f"unknown ImageRejected code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ModelError(RuntimeError):
    """The model file is missing, unreadable, or disagrees with its metadata (an operator's problem)."""
