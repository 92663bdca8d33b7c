"""Find a font that renders Chinese, for PDF export.

Order: `PEDGPT_CJK_FONT` (a .ttf/.otf/.ttc path; `path#N` picks face N of a collection), then
standard locations of Noto Sans CJK / Source Han Sans / WenQuanYi / Droid Sans Fallback on
Linux, macOS and Windows, then fontconfig (`fc-match :lang=zh-cn`). Collections (.ttc) are
searched for their Simplified Chinese face. Install one with `apt-get install fonts-noto-cjk`
(Debian/Ubuntu; Hugging Face Spaces: add `fonts-noto-cjk` to packages.txt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pedgpt.storage.errors import FontMissing

#: Regular-weight candidates, best first.
CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSans-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
#: Characters a usable font must have.
PROBE = "儿科患者发热咳嗽剂量"
INSTALL_HINT = ("no font with Chinese glyphs found for PDF export: install one "
                "(Debian/Ubuntu: `apt-get install fonts-noto-cjk`) or set PEDGPT_CJK_FONT to a "
                ".ttf/.otf/.ttc file")


@dataclass(frozen=True)
class FontFace:
    """One face of a font file."""

    path: str
    """The .ttf/.otf/.ttc file."""
    index: int = 0
    """Face number inside a .ttc/.otc collection (0 for single fonts)."""


def find_cjk_font() -> FontFace:
    """The best available Chinese face, or `FontMissing` naming how to install one."""
    return _find_regular()


@lru_cache(maxsize=None)
def _find_regular() -> FontFace:
    explicit = os.environ.get("PEDGPT_CJK_FONT", "").strip()
    if explicit:
        path, _, index = explicit.partition("#")
        if not Path(path).is_file():
            raise FontMissing(f"PEDGPT_CJK_FONT={path!r} is not a file")
        face = FontFace(path, int(index)) if index else _pick_face(path)
        if face is None or not _covers(face):
            raise FontMissing(f"PEDGPT_CJK_FONT={path!r} has no Chinese glyphs")
        return face
    for path in (*CANDIDATES, *_fontconfig()):
        if Path(path).is_file():
            face = _pick_face(path)
            if face is not None:
                return face
    raise FontMissing(INSTALL_HINT)


def _fontconfig() -> list[str]:
    if shutil.which("fc-match") is None:
        return []
    try:
        out = subprocess.run(["fc-match", "-s", "-f", "%{file}\n", ":lang=zh-cn"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in out.splitlines()[:20] if line.lower().endswith((".ttf", ".otf", ".ttc"))]


def _pick_face(path: str) -> FontFace | None:
    """A face of `path` that covers PROBE; in a collection prefer the Simplified Chinese one."""
    from fontTools.ttLib import TTCollection, TTLibError

    if not path.lower().endswith((".ttc", ".otc")):
        face = FontFace(path, 0)
        return face if _covers(face) else None
    try:
        fonts = TTCollection(path, lazy=True).fonts
    except (OSError, TTLibError):
        return None
    names = [str(f["name"].getDebugName(1) or "") for f in fonts]
    order = sorted(range(len(fonts)), key=lambda i: (" SC" not in names[i], "Mono" in names[i], i))
    for index in order:
        face = FontFace(path, index)
        if _covers(face):
            return face
    return None


def _covers(face: FontFace) -> bool:
    cmap = font_cmap(face)
    return all(ord(ch) in cmap for ch in PROBE)


@lru_cache(maxsize=8)
def font_cmap(face: FontFace) -> frozenset[int]:
    """Code points the face has glyphs for."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError):
        return frozenset()
