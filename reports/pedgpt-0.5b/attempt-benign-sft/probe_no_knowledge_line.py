"""Diagnostic: the over-refusal probe's 24 English questions with the line "No reference knowledge
matched; if unsure, say so." removed from the system message; everything else as
`reports/pedgpt-0.5b/probe-benign/probe.py` (served prompt, English lock, greedy, 160 tokens).

    python reports/pedgpt-0.5b/attempt-benign-sft/probe_no_knowledge_line.py pedgpt-0.5b \
        > reports/pedgpt-0.5b/attempt-benign-sft/probe-shipped-no-knowledge-line.json
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "probe-benign"))
from probe import answered  # noqa: E402

#: The English served prompt's line when retrieval found nothing (assets/prompts/_context.en.j2).
LINE = "\n\nNo reference knowledge matched; if unsure, say so."


def main(model: str) -> None:
    had_line: dict[str, bool] = {}  # question → whether its system message carried LINE

    def drop_line(turn) -> None:
        system = turn.messages[0]["content"]
        had_line[turn.question] = LINE in system
        turn.messages[0]["content"] = system.replace(LINE, "")

    _, results = answered(model, languages=("en",), edit=drop_line)
    out = [{"id": item["id"], "had_line": had_line[turn.question], "refused": refused, "answer": answer[:300]}
           for item, turn, answer, refused in results]
    print(json.dumps({"model": model, "refused": [a["id"] for a in out if a["refused"]], "answers": out}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
