"""PedGPT web app — entry point for `python app.py` and Hugging Face Spaces.

Wiring only: settings from the environment (PEDGPT_*, see README) → engine → database
(migrated) → page → server. Spaces sets GRADIO_SERVER_NAME / GRADIO_SERVER_PORT; locally the app
listens on 127.0.0.1:7860. `pedgpt serve` does the same with command-line flags.
"""

import os
import sys

from pedgpt.config import Settings
from pedgpt.errors import PedGPTError


def main() -> int:
    try:
        settings = Settings.from_env()
        port = int(os.environ.get("GRADIO_SERVER_PORT") or 7860)
        host = os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
        from ui import serve

        serve(settings, host=host, port=port)
    except PedGPTError as exc:
        print(f"pedgpt: error: {exc}", file=sys.stderr)
        return 2
    except ValueError:
        print("pedgpt: error: GRADIO_SERVER_PORT must be a port number", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
