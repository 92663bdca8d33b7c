"""The transformers backend on the tiny random Qwen2 model (fixtures in tests/conftest.py)."""

import json
import threading

import pytest

from pedgpt.chat_template import tokenize_segments
from pedgpt.engine import load_engine
from pedgpt.errors import InputError, ModelError

ASK = [{"role": "user", "content": "宝宝发烧三十八度五，需要去医院吗？"}]
CONVERSATION = [
    {"role": "system", "content": "你是一名儿科医生。"},
    {"role": "user", "content": "My baby has a rash."},
    {"role": "assistant", "content": "How old is the baby?"},
    {"role": "user", "content": "孩子8个月，出皮疹两天了。"},
]


def test_streams_pieces_with_stats(tiny_engine):
    pieces = list(tiny_engine.stream(ASK, max_new_tokens=24))
    stats = tiny_engine.last_stats
    assert len(pieces) > 1 and all(isinstance(p, str) and p for p in pieces)
    assert stats.completion_tokens == 24 and stats.finish_reason == "length"
    assert stats.prompt_tokens == len(tiny_engine.encode_prompt(ASK))
    assert "".join(pieces) == tiny_engine.generate(ASK, max_new_tokens=24)  # greedy: repeatable


def test_info_names_backend_device_dtype(tiny_engine, tiny_model_dir):
    info = tiny_engine.info()
    assert info["backend"] == "transformers" and info["device"] == "cpu" and info["dtype"] == "bf16"
    assert info["path"] == str(tiny_model_dir) and info["context_length"] == 512
    assert "adapter" not in info


def test_stop_string_cuts_the_answer(tiny_engine):
    full = tiny_engine.generate(ASK, max_new_tokens=40)
    assert len(full) >= 6
    stop = full[len(full) // 2: len(full) // 2 + 2]
    cut = tiny_engine.generate(ASK, max_new_tokens=40, stop=[stop])
    assert cut == full[: full.find(stop)] and stop not in cut
    assert tiny_engine.last_stats.finish_reason == "stop"


def test_cancel_mid_stream_then_usable_again(tiny_engine):
    expected = tiny_engine.generate(ASK, max_new_tokens=12)
    stream = tiny_engine.stream(ASK, max_new_tokens=400)
    first = next(stream)
    tiny_engine.cancel()
    rest = list(stream)
    stats = tiny_engine.last_stats
    assert first and stats.finish_reason == "cancelled" and stats.completion_tokens < 50
    assert tiny_engine.queue_depth() == 0
    assert tiny_engine.generate(ASK, max_new_tokens=12) == expected


def test_cancel_event_and_closing_the_generator(tiny_engine):
    event = threading.Event()
    stream = tiny_engine.stream(ASK, max_new_tokens=300, cancel=event)
    next(stream)
    event.set()
    list(stream)
    assert tiny_engine.last_stats.finish_reason == "cancelled"
    stream = tiny_engine.stream(ASK, max_new_tokens=300)
    next(stream)
    stream.close()  # a browser tab that went away
    assert tiny_engine.queue_depth() == 0
    assert tiny_engine.generate(ASK, max_new_tokens=4)


def test_concurrent_calls_never_interleave_and_keep_order(tiny_engine):
    prompts = {"first": ASK, "second": [{"role": "user", "content": "My toddler has a cough."}]}
    alone = {name: tiny_engine.generate(m, max_new_tokens=30) for name, m in prompts.items()}
    events: list[tuple[str, str]] = []
    first_started = threading.Event()

    def consume(name):
        for piece in tiny_engine.stream(prompts[name], max_new_tokens=30):
            events.append((name, piece))
            first_started.set()

    threads = {"first": threading.Thread(target=consume, args=("first",))}
    threads["first"].start()
    assert first_started.wait(30)
    threads["second"] = threading.Thread(target=consume, args=("second",))
    threads["second"].start()
    for thread in threads.values():
        thread.join(60)
    names = [name for name, _ in events]
    assert names == sorted(names, key=["first", "second"].index)  # all of first, then all of second
    for name in prompts:
        assert "".join(p for n, p in events if n == name) == alone[name]


def test_prompt_too_long_is_a_clear_input_error(tiny_engine):
    long_text = "宝宝发烧咳嗽流鼻涕。" * 300
    with pytest.raises(InputError, match="too long"):
        list(tiny_engine.stream([{"role": "user", "content": long_text}], max_new_tokens=8))
    assert tiny_engine.queue_depth() == 0 and tiny_engine.generate(ASK, max_new_tokens=2)


def test_count_tokens_matches_tokenizer(tiny_engine):
    text = "<|im_start|>user\n宝宝咳嗽<|im_end|>\n"
    assert tiny_engine.count_tokens(text) == len(tiny_engine.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert tiny_engine.encode(text)[0] == tiny_engine.tokenizer.convert_tokens_to_ids("<|im_start|>")


def test_fed_ids_equal_training_collator_ids(tiny_engine, monkeypatch):
    """The ids the engine feeds the model == what tokenize_segments builds for training."""
    fed = {}
    real_generate = tiny_engine.model.generate

    def spy(**kwargs):
        fed["ids"] = kwargs["input_ids"][0].tolist()
        return real_generate(**kwargs)

    monkeypatch.setattr(tiny_engine.model, "generate", spy)
    tiny_engine.generate(CONVERSATION, max_new_tokens=2)
    reply = {"role": "assistant", "content": "出疹前有发烧吗？"}
    segments = tiny_engine.template.render_segments(CONVERSATION + [reply])
    encode = lambda text: tiny_engine.tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    train_ids, labels = tokenize_segments(segments, encode)
    n = len(fed["ids"])
    assert train_ids[:n] == fed["ids"]
    assert labels[n - 1] == -100  # the generation header carries no loss ...
    assert labels[n] != -100  # ... and the answer starts right after it


def generated_ids(engine, max_new_tokens=16, messages=ASK, **generation):
    """New token ids of a greedy engine generation (streamed text of random byte tokens can be
    invalid UTF-8, so ids, not text, are compared); `generation`: more `Engine.stream` settings."""
    captured = []
    real = engine.model.generate

    def spy(**kwargs):
        out = real(**kwargs)
        captured.append(out[0, kwargs["input_ids"].shape[1]:].tolist())
        return out

    engine.model.generate = spy
    try:
        engine.generate(messages, max_new_tokens=max_new_tokens, repetition_penalty=1.0, **generation)
    finally:
        del engine.model.generate
    return captured[0]


def reference_ids(engine, model, max_new_tokens=16):
    import torch

    ids = torch.tensor([engine.encode_prompt(ASK)])
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                         do_sample=False, eos_token_id=engine.eos_ids, pad_token_id=0)
    return out[0, ids.shape[1]:].tolist()


def test_peft_lora_adapter_via_manifest(tiny_model_dir, tmp_path):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(base, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj", "down_proj"],
                                           init_lora_weights=False))
    lora.save_pretrained(tmp_path / "run" / "adapter")
    (tmp_path / "run" / "pedgpt_model.json").write_text(json.dumps(
        {"base": str(tiny_model_dir), "adapter": "adapter", "adapter_type": "lora"}))

    engine = load_engine(str(tmp_path / "run"))
    info = engine.info()
    assert info["backend"] == "transformers" and info["adapter_type"] == "lora"
    assert info["adapter"] == str((tmp_path / "run" / "adapter").resolve())
    with_adapter = engine.generate(ASK, max_new_tokens=16)
    base_engine = load_engine(str(tiny_model_dir))
    assert with_adapter != base_engine.generate(ASK, max_new_tokens=16)

    # Same tokens as PEFT itself on the same bf16 base.
    reference = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16),
        tmp_path / "run" / "adapter").merge_and_unload()
    assert generated_ids(engine) == reference_ids(engine, reference)

    # An adapter folder on its own works too (base from adapter_config.json).
    assert load_engine(str(tmp_path / "run" / "adapter")).generate(ASK, max_new_tokens=16) == with_adapter


def test_manifest_with_missing_adapter_is_a_model_error(tiny_model_dir, tmp_path):
    (tmp_path / "pedgpt_model.json").write_text(json.dumps({"base": str(tiny_model_dir), "adapter": "nope"}))
    with pytest.raises(ModelError, match="adapter folder"):
        load_engine(str(tmp_path))


def test_broken_adapter_is_a_model_error(tiny_model_dir, tmp_path):
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text("{}")
    (tmp_path / "pedgpt_model.json").write_text(json.dumps({"base": str(tiny_model_dir), "adapter": "adapter"}))
    with pytest.raises(ModelError):
        load_engine(str(tmp_path))


def test_corrupt_checkpoint_is_a_model_error(tiny_model_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError, match="cannot load the model"):
        load_engine(str(broken))


def test_uncached_hub_id_offline_is_a_model_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="not in the local Hugging Face cache"):
        load_engine("pedgpt-test-org/no-such-model", backend="transformers", device="cpu")


def test_moe_lora_adapter_via_manifest_and_folder(tiny_model_dir, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from train.moe_lora import inject_moe_lora, load_moe_adapter, moe_modules, save_moe_adapter

    torch.manual_seed(2)
    model = inject_moe_lora(AutoModelForCausalLM.from_pretrained(tiny_model_dir), ["q_proj", "v_proj"],
                            r=4, alpha=32, num_specific=2)
    with torch.no_grad():
        for module in moe_modules(model).values():
            module.lora_B.normal_(0, 0.5)  # trained experts are non-zero
    save_moe_adapter(model, tmp_path / "run" / "moe")
    (tmp_path / "run" / "pedgpt_model.json").write_text(json.dumps(
        {"base": str(tiny_model_dir), "adapter": "moe", "adapter_type": "moe-lora"}))

    engine = load_engine(str(tmp_path / "run"))
    assert engine.info()["adapter_type"] == "moe-lora"
    answer = engine.generate(ASK, max_new_tokens=16)
    assert answer != load_engine(str(tiny_model_dir)).generate(ASK, max_new_tokens=16)
    reference = load_moe_adapter(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16),
                                 tmp_path / "run" / "moe")
    assert generated_ids(engine) == reference_ids(engine, reference)
    # The adapter folder alone (base from moe_lora_config.json) gives the same model.
    assert load_engine(str(tmp_path / "run" / "moe")).generate(ASK, max_new_tokens=16) == answer


def test_english_answers_never_sample_an_id_that_writes_chinese(tiny_engine):
    forbidden = set(tiny_engine.forbidden_ids("en"))
    assert forbidden, "the tiny byte-level vocabulary holds Chinese pieces"
    assert not tiny_engine.forbidden_ids("zh")
    for prompt in ("宝宝发烧", "发热咳嗽三天", "腹泻呕吐"):
        ids = generated_ids(tiny_engine, 24, [{"role": "user", "content": prompt}], answer_language="en")
        assert ids and not forbidden & set(ids)
