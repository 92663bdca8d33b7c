"""PedGPT's web app (Gradio): layout and small typed handlers; no model or clinical logic here.

    from ui import build_demo, launch
    demo = build_demo(settings, engine, db)      # pedgpt.config.Settings, an Engine, a migrated Database
    launch(demo, host="127.0.0.1", port=7860)

Run it with `python app.py` or `pedgpt serve`.
"""

from ui.layout import build_demo
from ui.server import launch, serve

__all__ = ["build_demo", "launch", "serve"]
