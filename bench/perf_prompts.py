"""Bench prompts: a short question and a realistic long multi-turn consultation (~1,500 tokens).

The long prompt is what the app really sends: `Assistant.prepare` on a consultation with a pinned
patient card, several earlier turns and the retrieved knowledge facts of the last question.

    from bench.perf_prompts import short_messages, long_turn
    turn = long_turn(engine, target_tokens=1500)    # a pedgpt.assistant.Turn
"""

from __future__ import annotations

SHORT_QUESTION = "请简要介绍一下儿童发热的家庭护理方法和需要就医的情况。"

PATIENT = {"age_months": 26, "sex": "M", "weight_kg": 12.5, "allergies": "青霉素（皮疹）",
           "chronic_conditions": "无"}

#: Earlier turns of one consultation (question, answer), repeated in order until the target length.
TURNS = [
    ("宝宝2岁2个月，男孩，体重12.5公斤，昨天晚上开始发烧，最高39.2度，吃了退烧药后降到37.8度，"
     "今天早上又烧到38.9度。精神还可以，吃奶比平时少一点，没有呕吐。需要注意什么？",
     "根据描述，孩子发热不到24小时，精神尚可，最常见的原因是病毒性上呼吸道感染。建议：1. 体温超过"
     "38.5度且孩子不舒服时可按体重使用对乙酰氨基酚或布洛芬，两次用药间隔至少4到6小时；2. 多喝水，"
     "少量多次，注意尿量；3. 穿着宽松，不要捂汗。如果出现精神萎靡、抽搐、呼吸急促、持续高热超过"
     "3天或尿量明显减少，请立即就医。"),
    ("今天下午开始有点咳嗽，流清鼻涕，嗓子有点红。晚上睡觉的时候鼻子堵，呼吸声音有点重，"
     "但是没有喘。需要吃抗生素吗？",
     "咳嗽、流清涕、咽部发红，多为病毒感染，抗生素对病毒无效，一般不需要使用。可以用生理盐水"
     "滴鼻或喷鼻，帮助通气；睡觉时适当抬高头部；保持室内湿度。若出现呼吸费力、三凹征、口唇发紫、"
     "喘息，或者发热超过3天、咳出黄脓痰，应及时到医院检查血常规，由医生判断是否需要抗生素。"),
    ("孩子对青霉素过敏，以前打针起过皮疹。如果以后需要用抗生素，哪些药要避免？",
     "对青霉素过敏的孩子应避免青霉素类药物（如阿莫西林、阿莫西林克拉维酸钾）。头孢类与青霉素"
     "有一定交叉过敏的可能，需要医生评估过敏的严重程度后决定。大环内酯类（如阿奇霉素）通常可作为"
     "替代，但必须由医生开具。每次就诊请主动告诉医生过敏史。"),
    ("今天体温最高38.6度，比昨天低一些。大便有点稀，一天两次，没有血。饭量还是少。",
     "体温峰值下降是好转的迹象。轻度腹泻可能与病毒感染有关，注意补液，可以使用口服补液盐，"
     "少量多次喂服；饮食清淡，继续正常喂养，不必禁食。观察尿量、精神和口唇是否干燥，若出现"
     "频繁呕吐、大便带血、6小时以上无尿或精神差，请及时就医。"),
]

LAST_QUESTION = ("现在第三天了，还是反复发烧，38.7度，耳朵好像有点疼，老是抓右边耳朵，晚上哭闹。"
                 "会不会是中耳炎？需要去医院吗？布洛芬可以和对乙酰氨基酚交替吃吗？")
#: An English question: the served prompt gives it Chinese knowledge facts, so its answer runs
#: under the English-answer lock (`pedgpt.engine.script_lock`).
ENGLISH_QUESTION = ("My 2-year-old has had a fever of 38.9 °C since yesterday and keeps pulling at "
                    "his right ear. What can we do at home, and when should we see a doctor?")
FOLLOW_UP_QUESTION = "如果确诊中耳炎，一般要治疗多久？孩子青霉素过敏，医生可能会用什么药？"


def short_messages(question: str = SHORT_QUESTION) -> list[dict]:
    """The ~50-token prompt: one user message, the template's default system line."""
    return [{"role": "user", "content": question}]


def patient():
    from pedgpt.assistant import Patient

    return Patient(**PATIENT)


def history_for(engine, target_tokens: int) -> list[dict]:
    """Earlier turns, cycling TURNS, until the rendered history alone nears `target_tokens`."""
    history: list[dict] = []
    index = 0
    while index < 64:
        question, answer = TURNS[index % len(TURNS)]
        candidate = history + [{"role": "user", "content": question},
                               {"role": "assistant", "content": answer}]
        if history and engine.prompt_tokens(candidate) > target_tokens:
            break
        history, index = candidate, index + 1
    return history


def long_turn(engine, target_tokens: int = 1500, max_new_tokens: int = 128, assistant=None):
    """The app's real prompt for the last question of a long consultation (~target_tokens)."""
    from pedgpt.assistant import Assistant

    assistant = assistant or Assistant(engine)
    # History fills what the system prompt (instructions, patient, ~8 facts) and question leave.
    alone = assistant.prepare("consult", [], LAST_QUESTION, patient(), max_new_tokens)
    history = history_for(engine, max(100, target_tokens - engine.prompt_tokens(alone.messages)))
    return assistant.prepare("consult", history, LAST_QUESTION, patient(), max_new_tokens)


def follow_up_turn(engine, first, answer: str, max_new_tokens: int = 128, assistant=None):
    """The next turn of the same consultation: history + the first turn's question and answer."""
    from pedgpt.assistant import Assistant

    assistant = assistant or Assistant(engine)
    history = [m for m in first.messages if m["role"] != "system"]
    history = history + [{"role": "assistant", "content": answer}]
    return assistant.prepare("consult", history, FOLLOW_UP_QUESTION, first.patient, max_new_tokens)


def english_turn(engine, max_new_tokens: int = 128, assistant=None):
    """The app's prompt for ENGLISH_QUESTION on the first turn (instructions, patient, facts)."""
    from pedgpt.assistant import Assistant

    assistant = assistant or Assistant(engine)
    return assistant.prepare("consult", [], ENGLISH_QUESTION, patient(), max_new_tokens)
