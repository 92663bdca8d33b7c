"""The assistant turn: patient context, triage, retrieval, context fitting, the answer guard.

Runs on the tiny random transformers engine (`tiny_engine`) and a tiny hand-made knowledge
graph; the safety rules are the real ones."""

import pytest

from pedgpt.assistant import Assistant, Patient, format_age
from pedgpt.engine.base import Engine, EngineStats
from pedgpt.errors import InputError
from pedgpt.knowledge.index import KnowledgeIndex

GRAPH = {
    "小儿腹泻": {"常见症状": ["腹泻", "呕吐", "发热", "脱水"], "就诊科室": ["儿科"],
                 "多发群体": ["2岁以下婴幼儿"], "相关药物": ["口服补液盐III"]},
    "腹泻": {"常见症状": ["腹痛", "发热"], "别称": ["拉肚子"], "就诊科室": ["消化内科"]},
    "阿司匹林泡腾片": {"用法用量": ["口服，一次0.3～0.6g，一日3次"], "适应症": ["发热", "头痛"],
                       "注意事项": ["儿童慎用"]},
}


class ScriptedEngine(Engine):
    """Test double: answers with a fixed text, counts tokens as characters."""

    backend = "scripted"

    def __init__(self, answer: str, context_length: int = 4096):
        super().__init__(context_length=context_length)
        self.answer, self.seen = answer, []

    def info(self):
        return {"model": "scripted", "backend": self.backend}

    def count_tokens(self, text):
        return len(text)

    def _generate(self, messages, params, cancel):
        self.seen.append(messages)
        self.last_stats = EngineStats(finish_reason="stop")
        yield self.answer


@pytest.fixture(scope="module")
def tiny_kb(tmp_path_factory):
    return KnowledgeIndex.from_graph(GRAPH, tmp_path_factory.mktemp("kb") / "kb.sqlite")


def test_patient_context_is_extracted_and_pinned(tiny_kb):
    engine = ScriptedEngine("好的。")
    assistant = Assistant(engine, knowledge_index=tiny_kb)
    turn = assistant.prepare("consult", [], "宝宝1岁半，12公斤，拉肚子两天了", Patient(sex="F"))
    assert turn.language == "zh"
    assert turn.patient.age_months == pytest.approx(18)
    assert turn.patient.weight_kg == pytest.approx(12)
    system = turn.messages[0]["content"]
    assert "年龄：1岁6个月" in system and "体重：12 kg" in system and "性别：女" in system


def test_explicit_patient_values_win_over_text(tiny_kb):
    assistant = Assistant(ScriptedEngine("ok"), knowledge_index=tiny_kb)
    turn = assistant.prepare("consult", [], "My 3 year old has a cough", Patient(age_months=40))
    assert turn.patient.age_months == 40 and turn.language == "en"


def test_emergency_triage_reaches_prompt_and_result(tiny_kb):
    assistant = Assistant(ScriptedEngine("可以在家观察。"), knowledge_index=tiny_kb)
    result = assistant.ask("6周的宝宝发烧38.5度")
    assert result.triage["level"] == "emergency"
    assert "120" in assistant.engine.seen[-1][0]["content"]
    assert result.triage["flags"]


def test_citations_come_from_the_index_with_markers(tiny_kb):
    assistant = Assistant(ScriptedEngine("多补液 [F1]。"), knowledge_index=tiny_kb)
    result = assistant.ask("孩子拉肚子怎么办")
    assert result.citations, "a diarrhoea question must retrieve facts"
    for citation in result.citations:
        assert tiny_kb.fact(citation["id"]) is not None
        assert citation["text"] in assistant.engine.seen[-1][0]["content"]
    assert result.citations[0]["cited"] is True


def test_unsafe_answer_is_flagged(tiny_kb):
    answer = "可以给孩子吃阿司匹林退烧，每次100mg。"
    assistant = Assistant(ScriptedEngine(answer), knowledge_index=tiny_kb)
    result = assistant.ask("1岁宝宝发烧38.5度，吃什么药", patient=Patient(weight_kg=10))
    kinds = {finding["kind"] for finding in result.dose_checks}
    assert "forbidden_drug" in kinds


def test_contraindicated_request_puts_the_rule_in_the_prompt(tiny_kb):
    assistant = Assistant(ScriptedEngine("不建议。"), knowledge_index=tiny_kb)
    turn = assistant.prepare("consult", [], "2岁孩子发热，阿司匹林泡腾片吃多少？")
    assert [b["rule_id"] for b in turn.blocked] == ["CI-1"]
    system = turn.messages[0]["content"]
    assert "系统安全规则" in system and "瑞氏综合征" in system and turn.blocked[0]["source"] in system
    # the knowledge graph's aspirin dose is not offered next to the rule; other facts stay
    assert turn.citations, "the aspirin entity's other facts are still retrieved"
    assert all(c["predicate"] != "用法用量" for c in turn.citations)
    assert "0.3～0.6g" not in system
    assert [c["marker"] for c in turn.citations] == [f"F{i}" for i in range(1, len(turn.citations) + 1)]
    result = assistant.finish(turn, "不建议。")
    assert result.to_dict()["blocked_requests"][0]["rule_id"] == "CI-1"


def test_allowed_request_keeps_dose_facts_and_has_no_rule(tiny_kb):
    assistant = Assistant(ScriptedEngine("ok"), knowledge_index=tiny_kb)
    turn = assistant.prepare("consult", [], "17岁，头痛，阿司匹林泡腾片吃多少？")
    assert turn.blocked == []
    assert "系统安全规则" not in turn.messages[0]["content"]
    assert any(c["predicate"] == "用法用量" for c in turn.citations)


def test_follow_up_turn_states_the_rule_in_its_context_message(tiny_kb):
    assistant = Assistant(ScriptedEngine("ok"), knowledge_index=tiny_kb)
    history = [{"role": "user", "content": "My son is 3 and has a fever."},
               {"role": "assistant", "content": "How high is it?"}]
    turn = assistant.prepare("consult", history, "39 degrees. Can I give him aspirin?")
    assert [b["rule_id"] for b in turn.blocked] == ["CI-1"]
    assert "System safety rule" in turn.messages[-2]["content"]
    assert "System safety rule" not in turn.messages[0]["content"]


def test_oldest_turns_dropped_but_patient_context_kept():
    engine = ScriptedEngine("ok", context_length=700)
    assistant = Assistant(engine, use_knowledge=False)
    history = []
    for i in range(6):
        history += [{"role": "user", "content": f"问题{i} " + "很长的描述" * 10},
                    {"role": "assistant", "content": f"回答{i} " + "详细的解释" * 10}]
    turn = assistant.prepare("consult", history, "现在怎么办？", Patient(age_months=30, weight_kg=13),
                             max_new_tokens=100)
    assert turn.dropped_turns > 0 and turn.dropped_turns % 2 == 0
    assert "体重：13 kg" in turn.messages[0]["content"]
    assert turn.messages[-1]["content"] == "现在怎么办？"
    assert turn.messages[1]["role"] == "user"  # pairs are dropped whole
    assert engine.prompt_tokens(turn.messages) <= 700 - 100


def test_question_too_long_even_without_history():
    assistant = Assistant(ScriptedEngine("ok", context_length=300), use_knowledge=False)
    with pytest.raises(InputError, match="too long"):
        assistant.prepare("consult", [], "咳嗽" * 200, max_new_tokens=50)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_rejected(question):
    with pytest.raises(InputError):
        Assistant(ScriptedEngine("ok"), use_knowledge=False).prepare("consult", [], question)


@pytest.mark.parametrize("kwargs", [{"weight_kg": 0}, {"weight_kg": -1}, {"weight_kg": 500},
                                    {"age_months": -2}, {"age_months": 300}, {"sex": "X"}])
def test_patient_values_validated(kwargs):
    with pytest.raises(InputError):
        Patient(**kwargs)


def test_format_age():
    assert format_age(18, "zh") == "1岁6个月"
    assert format_age(24, "zh") == "2岁"
    assert format_age(3, "en") == "3 mo"


def test_tiny_engine_streams_through_assistant(tiny_engine):
    assistant = Assistant(tiny_engine, use_knowledge=False)
    turn = assistant.prepare("medicate", [], "布洛芬怎么吃？", Patient(age_months=24, weight_kg=12),
                             max_new_tokens=8)
    pieces = list(assistant.stream(turn, max_new_tokens=8))
    result = assistant.finish(turn, "".join(pieces))
    assert result.task == "medicate" and result.language == "zh"
    assert result.answer == "".join(pieces)
    assert tiny_engine.last_stats.completion_tokens <= 8


class ParamsEngine(ScriptedEngine):
    """Also keeps the generation settings of every call."""

    def _generate(self, messages, params, cancel):
        self.params = params
        yield from super()._generate(messages, params, cancel)


@pytest.mark.parametrize("question,language", [("My 2-year-old has had diarrhea for a day.", "en"),
                                               ("两岁孩子拉肚子一天了", "zh")])
def test_answer_is_locked_to_the_question_language(question, language):
    engine = ParamsEngine("ok")
    assistant = Assistant(engine, use_knowledge=False)
    turn = assistant.prepare("consult", [], question)
    "".join(assistant.stream(turn, max_new_tokens=8))
    assert turn.language == language and engine.params.answer_language == language
