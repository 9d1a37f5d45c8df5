"""The selfie's seal on its way through the queue (Fernet: AES-128-CBC with an HMAC).

Each analysis gets its own key, kept only in its row and erased when the analysis ends, so whatever
the broker kept (unacked messages, AOF or RDB files, SQLite pages) cannot give the photo back.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class PhotoUnreadable(ValueError):
    """The sealed photo does not open with the analysis' key (damaged message, or the key is gone)."""


def new_key() -> str:
    """A fresh key for one analysis, as text for its row."""
    return Fernet.generate_key().decode("ascii")


def seal(key: str, photo: bytes) -> str:
    """The photo encrypted with ``key``, as text for the task message."""
    return Fernet(key.encode("ascii")).encrypt(photo).decode("ascii")


def unseal(key: str | None, sealed: str) -> bytes:
    """The photo back from its sealed text; raises PhotoUnreadable when it cannot be opened."""
    try:
        return Fernet((key or "").encode("ascii")).decrypt(sealed.encode("ascii"))
    except (InvalidToken, ValueError) as exc:
        raise PhotoUnreadable(str(exc)) from exc
