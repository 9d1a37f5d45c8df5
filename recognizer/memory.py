"""Handing memory freed by a large decode back to the system."""

import ctypes


def release_memory() -> bool:
    """Hand memory freed by a large decode back to the system (glibc's ``malloc_trim``).

    glibc keeps freed heap memory for reuse, so without this a process that decoded one large
    image stays that large; returns False where there is no glibc (nothing to do there).
    """
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
            _libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _libc = False
    if not _libc:
        return False
    _libc.malloc_trim(0)
    return True


_libc: ctypes.CDLL | None | bool = None
