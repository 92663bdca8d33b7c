"""Exports: Markdown, JSON and a PDF whose text layer holds the Chinese; safe file names."""

import io
import json

import pytest

from pedgpt.errors import InputError
from pedgpt.storage import FontMissing, safe_filename
from pedgpt.storage import fonts as fonts_module


@pytest.fixture
def case(store, alice):
    c = store.create(alice.id, "medicate", title="发热患儿用药",
                     patient={"age_months": 30, "sex": "M", "weight_kg": 13.5, "allergies": ["青霉素"]})
    store.add_user_message(alice.id, c.id, "3岁男孩发热39.5℃，体重13.5公斤，布洛芬怎么用？😀\t完")
    mid = store.add_assistant_message(
        alice.id, c.id, "布洛芬每次5–10 mg/kg，每6–8小时一次，24小时内不超过4次。\n若持续高热请及时就医。",
        triage={"level": "urgent", "advice": "24小时内就诊"},
        citations=[{"id": "nhs", "text": "NHS: Ibuprofen for children", "source": "nhs.uk"}])
    store.add_feedback(alice.id, mid, "down", "不完整", "补充：脱水时避免使用")
    return c.id


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    # pypdf reads fpdf2's 2-byte glyph codes (Identity-H) as NUL + char; the ToUnicode map
    # itself is right, so compare without NULs and whitespace
    return "".join("".join(page.extract_text().replace("\x00", "").split()) for page in reader.pages)


def test_pdf_has_searchable_chinese(store, alice, case):
    data = store.export_pdf(alice.id, case)
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    for phrase in ("发热患儿用药", "布洛芬每次5–10mg/kg", "若持续高热请及时就医", "24小时内就诊",
                   "青霉素", "不完整", "脱水时避免使用", "不能替代临床判断"):
        assert phrase in text, phrase
    assert "□" in text  # the emoji the font lacks is replaced, not silently dropped


def test_pdf_of_long_conversation_spans_pages(store, alice):
    c = store.create(alice.id)
    for i in range(30):
        store.add_user_message(alice.id, c.id, f"第{i}个问题：" + "咳嗽" * 100)
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(store.export_pdf(alice.id, c.id)))
    assert len(reader.pages) > 3
    assert "第29个问题" in "".join(reader.pages[-1].extract_text().replace("\x00", "").split())


def test_markdown_and_json(store, alice, case):
    md = store.export_markdown(alice.id, case)
    assert md.startswith("# 发热患儿用药\n")
    assert "布洛芬每次5–10 mg/kg" in md and "体重（kg）/ weight (kg): 13.5" in md
    assert "分诊 / triage: urgent — 24小时内就诊" in md
    data = json.loads(store.export_json(alice.id, case))
    assert data["consultation"]["patient"]["allergies"] == ["青霉素"]
    assert [m["role"] for m in data["messages"]] == ["user", "assistant"]
    assert data["messages"][1]["feedback"]["reason"] == "不完整"


@pytest.mark.parametrize("title", ["../../etc/passwd", "..", "/abs/path", "a\\b\\..\\c", "CON",
                                   ".hidden", "x" * 500, "", "发热/咳嗽?*<>|:\"", "\x00\n\t"])
def test_safe_filename(title):
    name = safe_filename(title, 7, "pdf")
    assert name.startswith("pedgpt-7-") and name.endswith(".pdf")
    assert "/" not in name and "\\" not in name and ".." not in name and len(name) < 90
    assert set(name) - set("-_.") <= {c for c in name if c.isalnum()}


def test_write_export_stays_in_folder(store, alice, tmp_path):
    c = store.create(alice.id, title="../../../escape")
    path = store.write_export(alice.id, c.id, "markdown", tmp_path / "out")
    assert path.parent == (tmp_path / "out").resolve() and path.read_text().startswith("# ")
    with pytest.raises(InputError):
        store.write_export(alice.id, c.id, "docx", tmp_path)


def test_clear_error_without_a_cjk_font(store, alice, monkeypatch, tmp_path):
    c = store.create(alice.id, title="x")
    fonts_module._find_regular.cache_clear()
    monkeypatch.setenv("PEDGPT_CJK_FONT", str(tmp_path / "missing.ttf"))
    try:
        with pytest.raises(FontMissing, match="PEDGPT_CJK_FONT"):
            store.export_pdf(alice.id, c.id)
        monkeypatch.setenv("PEDGPT_CJK_FONT", "")
        monkeypatch.setattr(fonts_module, "CANDIDATES", ())
        monkeypatch.setattr(fonts_module, "_fontconfig", lambda: [])
        fonts_module._find_regular.cache_clear()
        with pytest.raises(FontMissing, match="apt-get install fonts-noto-cjk"):
            store.export_pdf(alice.id, c.id)
    finally:
        fonts_module._find_regular.cache_clear()


def test_rules_stated_to_the_model_are_exported(store, alice):
    c = store.create(alice.id)
    store.add_user_message(alice.id, c.id, "1岁孩子发烧，可以吃阿司匹林吗？")
    store.add_assistant_message(alice.id, c.id, "不可以。", triage={
        "level": "routine", "advice": "", "blocked": [
            {"drug_id": "aspirin", "drug": "阿司匹林", "rule_id": "CI-1", "rule": "16岁以下禁用",
             "source": "MHRA 2009"}]})
    md = store.export_markdown(alice.id, c.id)
    assert "contraindication stated to the model: 阿司匹林 — 16岁以下禁用 (MHRA 2009)" in md
