"""PedGPT: an open pediatric medical assistant for clinicians.

The core package: configuration, model loading, inference engine and backends, the shared chat
template, clinical safety, knowledge, storage, evaluation and the `pedgpt` command line.
It never imports gradio (that lives in `ui/`) and never imports the training stack.
"""

__version__ = "0.1.0"
