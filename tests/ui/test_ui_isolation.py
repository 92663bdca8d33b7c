"""Every handler is scoped to the signed-in user: bob sees, opens, continues, exports, rates
and deletes nothing of alice's, even with her consultation ids."""

import gradio as gr
import pytest

from ui.chat import ChatHandlers
from ui.context import AppContext
from ui.export import ExportHandlers
from ui.feedback import FeedbackHandlers
from ui.sidebar import EMPTY_CARD, SidebarHandlers


@pytest.fixture
def alices(app_ctx, as_user):
    alice = as_user("alice")
    chat = ChatHandlers(app_ctx, "consult")
    current = chat.send("宝宝咳嗽三天", {}, False, *EMPTY_CARD, "", False, "zh", alice)[2]
    list(chat.answer(current, "zh", 24, 0, alice))
    return current


def test_bob_cannot_reach_alices_consultation(app_ctx, as_user, alices):
    bob, side, cid = as_user("bob"), SidebarHandlers(app_ctx), alices["consult"]
    assert side.refresh("", True, {}, "consult", "zh", bob)["choices"] == []
    assert side.refresh("咳嗽", True, {}, "consult", "zh", bob)["choices"] == []
    with pytest.raises(gr.Error):
        side.open(cid, {}, "zh", bob)
    for action in (lambda: side.rename("mine", alices, "consult", "", False, "zh", bob),
                   lambda: side.archive(alices, "consult", "", False, "zh", bob),
                   lambda: side.delete(alices, "consult", "", False, "zh", bob),
                   lambda: ExportHandlers(app_ctx, "json").export(alices, "consult", "zh", bob),
                   lambda: ChatHandlers(app_ctx, "consult").regenerate(alices, "zh", bob),
                   lambda: ChatHandlers(app_ctx, "consult").edit_last(alices, "zh", bob)):
        with pytest.raises(gr.Error):
            action()
    like = gr.LikeData(None, {"index": 1, "value": "", "liked": False})
    with pytest.raises(gr.Error):
        FeedbackHandlers(app_ctx, "consult").rate(alices, "zh", like, bob)
    with pytest.raises(gr.Error):
        list(ChatHandlers(app_ctx, "consult").answer(alices, "zh", 24, 0, bob))
    alice_messages = app_ctx.consultations.messages(app_ctx.user_id(as_user("alice")), cid)
    assert [m.role for m in alice_messages] == ["user", "assistant"]
    assert app_ctx.consultations.get(app_ctx.user_id(as_user("alice")), cid).title == "宝宝咳嗽三天"


def test_continuing_with_alices_id_starts_bobs_own(app_ctx, as_user, alices):
    bob = as_user("bob")
    current = ChatHandlers(app_ctx, "consult").send("我的问题", dict(alices), False, *EMPTY_CARD,
                                                    "", False, "zh", bob)[2]
    assert current["consult"] != alices["consult"]
    alice_messages = app_ctx.consultations.messages(app_ctx.user_id(as_user("alice")),
                                                    alices["consult"])
    assert "我的问题" not in [m.content for m in alice_messages]


def test_requests_without_a_signed_in_user_are_refused(app_ctx):
    with pytest.raises(gr.Error, match="sign in"):
        SidebarHandlers(app_ctx).refresh("", False, {}, "consult", "en", gr.Request())
    with pytest.raises(gr.Error, match="sign in"):
        SidebarHandlers(app_ctx).refresh("", False, {}, "consult", "en",
                                         gr.Request(username="mallory"))


def test_disabled_accounts_are_refused(app_ctx, as_user):
    app_ctx.users.disable("bob")
    with pytest.raises(gr.Error, match="disabled"):
        SidebarHandlers(app_ctx).refresh("", False, {}, "consult", "en", as_user("bob"))


def test_login_goes_through_the_user_store(app_ctx, user_password):
    assert app_ctx.authenticate("alice", user_password)
    assert app_ctx.authenticate("ALICE", user_password)  # usernames are case-insensitive
    assert not app_ctx.authenticate("alice", "wrong password")
    assert not app_ctx.authenticate("nobody", user_password)


def test_auth_off_acts_as_the_local_user(app_ctx):
    from pedgpt.config import Settings

    ctx = AppContext.create(Settings(db_url=app_ctx.db.url, auth=False), app_ctx.engine, app_ctx.db,
                            app_ctx.limits)
    assert ctx.username(gr.Request()) == "local"
    assert ctx.user_id(gr.Request()) == ctx.users.by_name("local").id
    AppContext.create(Settings(db_url=app_ctx.db.url, auth=False), app_ctx.engine, app_ctx.db)


def test_first_account_from_the_environment(app_ctx, monkeypatch):
    from pedgpt.config import Settings

    monkeypatch.setenv("PEDGPT_ADMIN_USER", "dr_li")
    monkeypatch.setenv("PEDGPT_ADMIN_PASSWORD", "a long admin password")
    ctx = AppContext.create(Settings(db_url=app_ctx.db.url), app_ctx.engine, app_ctx.db,
                            app_ctx.limits)
    assert ctx.authenticate("dr_li", "a long admin password")
    AppContext.create(Settings(db_url=app_ctx.db.url), app_ctx.engine, app_ctx.db)  # idempotent
    assert [u.username for u in ctx.users.list()].count("dr_li") == 1


def test_no_accounts_is_said_in_the_log(app_ctx, tmp_path, caplog):
    from pedgpt.config import Settings
    from pedgpt.storage import open_database

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with caplog.at_level("WARNING", logger="pedgpt.ui"):
        AppContext.create(Settings(db_url=url), app_ctx.engine, open_database(url), app_ctx.limits)
    assert "pedgpt users add" in caplog.text
