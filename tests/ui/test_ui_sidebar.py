"""Sidebar handlers: new, open, rename, search, archive, delete; the patient card; tabs."""

import gradio as gr
import pytest

from ui.chat import ChatHandlers
from ui.sidebar import EMPTY_CARD, SidebarHandlers, TabHandlers, card_values


def _labels(update):
    return [label for label, _ in update["choices"]]


def test_new_rename_search_archive_delete(app_ctx, as_user):
    alice, side = as_user("alice"), SidebarHandlers(app_ctx)
    current, *chats, years, months, sex, weight, allergies, chronic, title, listing = side.new(
        "diagnose", {}, "", False, "en", alice)
    cid = current["diagnose"]
    assert chats[1]["value"] == [] and chats[1]["feedback_value"] == []
    assert title == "" and listing["value"] == cid
    assert _labels(listing)[0].startswith("[Diagnosis] Untitled consultation")

    listing = side.rename("Fever, 18 months", current, "diagnose", "", False, "en", alice)
    assert "Fever, 18 months" in _labels(listing)[0]
    assert side.refresh("18 months", False, current, "diagnose", "en", alice)["choices"]
    assert side.refresh("no such words", False, current, "diagnose", "en", alice)["choices"] == []

    assert side.archive(current, "diagnose", "", False, "en", alice)["choices"] == []
    archived = side.refresh("", True, current, "diagnose", "en", alice)
    assert "(archived)" in _labels(archived)[0]
    assert side.archive(current, "diagnose", "", False, "en", alice)["choices"]  # back again

    current, *_, listing = side.delete(current, "diagnose", "", False, "en", alice)
    assert "diagnose" not in current and listing["choices"] == []
    with pytest.raises(gr.Error):
        side.open(cid, current, "en", alice)


def test_actions_without_an_open_consultation_are_refused(app_ctx, as_user):
    side = SidebarHandlers(app_ctx)
    for action in (lambda: side.archive({}, "consult", "", False, "en", as_user("alice")),
                   lambda: side.delete({}, "consult", "", False, "en", as_user("alice")),
                   lambda: side.rename("t", {}, "consult", "", False, "en", as_user("alice"))):
        with pytest.raises(gr.Error, match="Select or create a consultation first"):
            action()


def test_open_brings_its_tab_chat_and_patient_back(app_ctx, as_user):
    alice, side = as_user("alice"), SidebarHandlers(app_ctx)
    current, _ = side.save_patient(2, 0, "M", 12.5, "花生", "", {}, "medicate", "", False, "zh", alice)
    cid = current["medicate"]
    ChatHandlers(app_ctx, "medicate").send("布洛芬怎么吃？", current, False, 2, 0, "M", 12.5, "花生",
                                           "", "", False, "zh", alice)
    out = side.open(cid, {}, "zh", alice)
    new_current, active, tabs, consult, diagnose, medicate, *card, title = out
    assert new_current == {"medicate": cid} and active == "medicate"
    assert tabs.selected == "medicate"
    assert medicate["value"][0]["content"] == "布洛芬怎么吃？"
    assert consult == gr.skip() and diagnose == gr.skip()
    assert tuple(card) == ("2", "0", "M", "12.5", "花生", "") and title == "布洛芬怎么吃？"


def test_tab_select_shows_that_tabs_consultation(app_ctx, as_user):
    alice, side = as_user("alice"), SidebarHandlers(app_ctx)
    current, _ = side.save_patient(0, 9, "F", 8, "", "", {}, "consult", "", False, "en", alice)
    active, *card, title, listing = TabHandlers(app_ctx, "consult").select(current, "en", alice)
    assert active == "consult" and tuple(card) == ("0", "9", "F", "8", "", "")
    assert listing["value"] == current["consult"]
    active, *card, title, listing = TabHandlers(app_ctx, "diagnose").select(current, "en", alice)
    assert active == "diagnose" and tuple(card) == EMPTY_CARD and listing["value"] is None


def test_card_values_round_trip():
    assert card_values({"age_months": 30, "sex": "M", "weight_kg": 13.5, "allergies": ["a", "b"],
                        "chronic_conditions": []}) == ("2", "6", "M", "13.5", "a、b", "")
    assert card_values(None) == EMPTY_CARD == ("", "", "", "", "", "")
    assert card_values({"age_months": 18.5})[:2] == ("1", "6.5")
