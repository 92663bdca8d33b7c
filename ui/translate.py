"""The header's language switch: every labelled component is registered with its i18n keys at
build time, and switching language re-labels them all in one update.

    tr = Translations(lang="zh")
    button = tr.add(gr.Button(tr.text("chat.send")), value="chat.send")
    radio = tr.add(gr.Radio(...), label="patient.sex", choices=[("patient.sex_f", "F"), ...])
    lang.change(tr.apply, lang, tr.components)
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.i18n import DEFAULT_LANGUAGE, normalize, t


class Translations:
    """Registry of (component, {property: i18n key}) pairs."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = normalize(lang)
        self.components: list[Any] = []
        self._keys: list[dict[str, Any]] = []

    def text(self, key: str, **values: Any) -> str:
        """A string in the build-time language (what the page shows before the switch runs)."""
        return t(key, self.lang, **values)

    def choices(self, pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return [(t(key, self.lang), value) for key, value in pairs]

    def add(self, component: Any, **keys: Any) -> Any:
        """Register `component`; `keys` maps a property (label, value, info, the example text,
        choices) to an i18n key (choices: a list of (key, value) pairs)."""
        self.components.append(component)
        self._keys.append(keys)
        return component

    def updates(self, lang: str) -> list[dict]:
        lang = normalize(lang)
        out = []
        for keys in self._keys:
            props = {}
            for prop, key in keys.items():
                if prop == "choices":
                    props[prop] = [(t(k, lang), v) for k, v in key]
                else:
                    props[prop] = t(key, lang)
            out.append(gr.update(**props))
        return out

    def apply(self, lang: str) -> list[dict]:
        """Gradio handler: the re-labelling updates for `self.components`, in order."""
        return self.updates(lang)
