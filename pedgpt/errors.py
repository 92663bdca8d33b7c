"""User-facing errors.

Anything raised as a `PedGPTError` is a problem with the user's input or environment that the CLI
prints as one line on stderr with exit code 2 (and the web app shows as a message), never as a
traceback.
"""


class PedGPTError(Exception):
    """Base class: a clear, one-line, user-facing error."""


class InputError(PedGPTError, ValueError):
    """Bad user input (empty question, out-of-range weight, unknown drug, ...)."""


class ModelError(PedGPTError):
    """The model could not be found, assembled, verified or loaded."""


class BackendError(PedGPTError):
    """A backend is unknown, unavailable here (e.g. CUDA asked for but absent) or failed."""
