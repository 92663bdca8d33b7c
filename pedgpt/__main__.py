"""`python -m pedgpt` — same as the `pedgpt` console script."""

from pedgpt.cli import main

raise SystemExit(main())
