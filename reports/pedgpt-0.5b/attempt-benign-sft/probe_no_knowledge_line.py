"""Diagnostic: the over-refusal probe's 24 English questions with the line "No reference knowledge
matched; if unsure, say so." removed from the system message; everything else as
`reports/pedgpt-0.5b/probe-benign/probe.py` (served prompt, English lock, greedy, 160 tokens).

    python reports/pedgpt-0.5b/attempt-benign-sft/probe_no_knowledge_line.py pedgpt-0.5b \
        > reports/pedgpt-0.5b/attempt-benign-sft/probe-shipped-no-knowledge-line.json
"""
import json, sys
from pathlib import Path
from pedgpt.assistant import Assistant
from pedgpt.engine.loader import load_engine
from pedgpt.eval.answer_signals import load_markers

LINE = "\n\nNo reference knowledge matched; if unsure, say so."
model = sys.argv[1]
questions = [json.loads(l) for l in Path("reports/pedgpt-0.5b/probe-benign/questions.jsonl").read_text().splitlines() if l]
engine = load_engine(model); assistant, markers = Assistant(engine), load_markers()
out = []
for item in questions:
    if item["language"] != "en":
        continue
    engine.reset_cache()
    turn = assistant.prepare("consult", [], item["question"])
    system = turn.messages[0]["content"]
    had = LINE in system
    turn.messages[0]["content"] = system.replace(LINE, "")
    answer = "".join(assistant.stream(turn, max_new_tokens=160))
    out.append({"id": item["id"], "had_line": had, "refused": markers.refuses(answer), "answer": answer[:300]})
print(json.dumps({"model": model, "refused": [a["id"] for a in out if a["refused"]], "answers": out}, indent=1))
