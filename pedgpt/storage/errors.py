"""Storage errors: user-facing (`PedGPTError`), one line, never revealing another user's data.

`NotFound` is raised both when a record does not exist and when it belongs to someone else, with
the same message, so that guessing ids tells an attacker nothing.
"""

from pedgpt.errors import InputError, PedGPTError


class NotFound(PedGPTError, LookupError):
    """No such record for this user (missing, or owned by another user: indistinguishable)."""


class AuthError(PedGPTError, PermissionError):
    """Login refused: wrong credentials, disabled account, or temporarily locked."""


class FontMissing(PedGPTError):
    """No CJK font could be found for PDF export."""


__all__ = ["AuthError", "FontMissing", "InputError", "NotFound", "PedGPTError"]
