"""transformers backend: checkpoints trained by `train/`, hub models, or a GGUF de-quantised.

    from pedgpt.engine import load_engine
    engine = load_engine("runs/sft/final", backend="transformers")       # CPU → bf16
    engine = load_engine("Qwen/Qwen2.5-7B-Instruct", device="cuda")       # CUDA → 4-bit NF4

On CUDA the model is loaded in 4-bit NF4 through bitsandbytes (double quantisation, bf16
compute) — the product's "quantized model on CUDA" (`pip install -e .[gpu]`); on CPU in bf16.
A PEFT LoRA adapter (`adapter_type: lora`) is applied with `PeftModel.from_pretrained` and, on
CPU, merged into the weights; a MoE-LoRA adapter goes through `train.moe_lora.load_moe_adapter`.

The prompt is rendered with the tokenizer's own chat template (ChatML when it has none) and
tokenized with `add_special_tokens=False`, so the ids equal those the training collator builds
with `pedgpt.chat_template.tokenize_segments`. Text streams from a generation thread through a
`TextIteratorStreamer`; a `StoppingCriteria` ends generation at the next token on cancel.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

from transformers import StoppingCriteria, TextIteratorStreamer

from pedgpt.chat_template import Message
from pedgpt.engine.base import Engine, EngineStats, GenerationParams
from pedgpt.engine.loader import ModelRef, describe_dtype
from pedgpt.engine.templates import template_from_source
from pedgpt.errors import BackendError, ModelError

DEFAULT_CONTEXT = 4096

def model_load_kwargs(device: str) -> dict:
    """from_pretrained kwargs: CUDA → 4-bit NF4 on GPU 0; CPU → bf16."""
    import torch

    if device != "cuda":
        return {"dtype": torch.bfloat16}
    from transformers import BitsAndBytesConfig

    try:
        import bitsandbytes  # noqa: F401  (transformers needs it for 4-bit)
    except ImportError:
        raise BackendError("4-bit loading on CUDA needs bitsandbytes: pip install -e '.[gpu]'") from None
    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                               bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_use_double_quant=True)
    return {"quantization_config": quant, "dtype": torch.bfloat16, "device_map": {"": 0}}


def source_kwargs(ref: ModelRef) -> tuple[str, dict]:
    """(what to pass to from_pretrained, extra kwargs): a GGUF file loads from its folder."""
    if ref.kind == "gguf":
        path = Path(ref.location)
        return str(path.parent), {"gguf_file": path.name}
    return ref.location, {}


def load_tokenizer(ref: ModelRef):
    from transformers import AutoTokenizer

    location, extra = source_kwargs(ref)
    return _from_pretrained(AutoTokenizer, ref, location, **extra)


def load_model(ref: ModelRef, device: str):
    from transformers import AutoModelForCausalLM

    location, extra = source_kwargs(ref)
    model = _from_pretrained(AutoModelForCausalLM, ref, location, **extra, **model_load_kwargs(device))
    placed = next(model.parameters()).device.type
    if placed != device:  # e.g. 4-bit silently dispatched to CPU: refuse rather than crawl
        raise BackendError(f"the model was loaded on {placed} although {device} was chosen")
    return model.eval()


def apply_adapter(model, ref: ModelRef, device: str):
    """Base model + the adapter named by `ref` (LoRA via PEFT, MoE-LoRA via train.moe_lora);
    a `base_adapter` LoRA is merged first (the model the MoE-LoRA adapter was trained on)."""
    if ref.base_adapter:
        # Merged even over 4-bit weights (PEFT re-quantizes, with rounding): MoE-LoRA layers wrap
        # plain linear layers, not PEFT's.
        model = apply_lora(model, ref.base_adapter, merge=True)
    if not ref.adapter:
        return model
    if ref.adapter_type == "moe-lora":
        try:
            from train.moe_lora import load_moe_adapter
        except ImportError as exc:
            raise ModelError(f"MoE-LoRA adapters need the train package ({exc})") from None
        try:
            return load_moe_adapter(model, ref.adapter).eval()
        except ModelError:
            raise
        except Exception as exc:  # unreadable weights, wrong shapes
            raise ModelError(f"cannot load the MoE-LoRA adapter {ref.adapter}: {_first_line(exc)}") from None
    return apply_lora(model, ref.adapter, merge=device == "cpu")


def apply_lora(model, adapter: str, merge: bool):
    """The PEFT LoRA in folder `adapter` on `model`. On CPU merging removes the adapter's extra matmuls;
    4-bit weights cannot be merged losslessly (kept as an adapter there)."""
    from peft import PeftModel

    try:
        model = PeftModel.from_pretrained(model, adapter)
    except Exception as exc:  # bad config, missing or mismatched weights
        raise ModelError(f"cannot load the LoRA adapter {adapter}: {_first_line(exc)}") from None
    return (model.merge_and_unload() if merge else model).eval()


def _from_pretrained(cls, ref: ModelRef, location: str, **kwargs):
    try:
        return cls.from_pretrained(location, **kwargs)
    except BackendError:
        raise
    except Exception as exc:  # OSError, SafetensorError, ValueError...: one clear line instead
        if ref.kind == "hub":
            raise ModelError(f"cannot load {ref.location}: it is not in the local Hugging Face cache "
                             f"and the hub cannot be reached ({_first_line(exc)})") from None
        raise ModelError(f"cannot load the model at {location}: {_first_line(exc)}") from None


def _first_not_none(*values):
    return next(v for v in values if v is not None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


class TransformersEngine(Engine):
    """A transformers causal LM in-process (CPU bf16, or CUDA 4-bit)."""

    backend = "transformers"

    def __init__(self, ref: ModelRef, device: str = "cpu", context_length: int | None = None,
                 **unknown) -> None:
        if unknown:
            raise BackendError(f"transformers backend: unknown option(s): {', '.join(sorted(unknown))}")
        self.ref, self.device = ref, device
        self.tokenizer = load_tokenizer(ref)
        self.model = apply_adapter(load_model(ref, device), ref, device)
        tok = self.tokenizer
        template = template_from_source(getattr(tok, "chat_template", None),
                                        tok.bos_token or "", tok.eos_token or "")
        limit = getattr(self.model.config, "max_position_embeddings", None) or DEFAULT_CONTEXT
        super().__init__(template, context_length=min(int(context_length or limit), limit))
        self.eos_ids = self._eos_ids()

    def _eos_ids(self) -> list[int]:
        """Ids that end a turn: the generation config's EOS plus the template's stop tokens."""
        configured = self.model.generation_config.eos_token_id
        ids = list(configured) if isinstance(configured, (list, tuple)) else [configured]
        ids.append(self.tokenizer.eos_token_id)
        vocab = self.tokenizer.get_vocab()
        ids.extend(vocab[s] for s in self.template.stop if s in vocab)
        return sorted({int(i) for i in ids if i is not None})

    # ---- Engine API ---------------------------------------------------------------------------
    def info(self) -> dict:
        info = {"model": self.ref.name, "backend": self.backend, "device": self.device,
                "dtype": describe_dtype(self.device), "path": self.ref.location,
                "sha256": self.ref.sha256, "context_length": self.context_length,
                "parameters": sum(p.numel() for p in self.model.parameters())}
        if self.ref.adapter:
            info.update(adapter=self.ref.adapter, adapter_type=self.ref.adapter_type)
        if self.ref.base_adapter:
            info["base_adapter"] = self.ref.base_adapter
        return info

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def encode(self, text: str) -> list[int]:
        """Ids of already-rendered text, no special tokens added (as the training collator)."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_prompt(self, messages: list[Message]) -> list[int]:
        return self.encode(self.template.render(messages, add_generation_prompt=True))

    def token_pieces(self):
        from pedgpt.engine.script_lock import byte_level_pieces

        size = max(len(self.tokenizer), int(self.model.config.vocab_size))  # padded embedding rows
        tokens = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
        return [*byte_level_pieces(tokens), *([b""] * (size - len(tokens)))]

    # ---- generation ---------------------------------------------------------------------------
    def _generate(self, messages: list[Message], params: GenerationParams,
                  cancel: threading.Event) -> Iterator[str]:
        ids = self.encode_prompt(messages)
        self.check_fits(len(ids), params)
        budget = min(params.max_new_tokens, self.context_length - len(ids))
        stats = self.last_stats = EngineStats(prompt_tokens=len(ids))
        halt = threading.Event()  # set when the consumer stops early (stop string, close)
        streamer = _CountingStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = self._generate_kwargs(ids, params, budget, streamer, cancel, halt)
        failure: list[BaseException] = []
        worker = threading.Thread(target=self._run, args=(kwargs, streamer, failure, params.seed),
                                  name="pedgpt-generate", daemon=True)
        started = time.perf_counter()
        worker.start()
        try:
            for text in streamer:
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - started
                if text:
                    yield text
                if cancel.is_set():
                    break
        finally:
            halt.set()
            worker.join()
            stats.completion_tokens = streamer.generated
            stats.total_s = time.perf_counter() - started
            stats.finish_reason = ("cancelled" if cancel.is_set() else
                                   "length" if streamer.generated >= budget else "stop")
        if failure:
            raise BackendError(f"generation failed: {_first_line(failure[0])}")

    def _generate_kwargs(self, ids, params, budget, streamer, cancel, halt) -> dict:
        import torch
        from transformers import GenerationConfig, StoppingCriteriaList

        sampling = params.temperature > 0
        config = GenerationConfig(
            max_new_tokens=budget, do_sample=sampling,
            temperature=params.temperature if sampling else None,
            top_p=params.top_p if sampling else None, top_k=None,
            repetition_penalty=params.repetition_penalty if params.repetition_penalty != 1.0 else None,
            eos_token_id=self.eos_ids,
            suppress_tokens=list(self.forbidden_ids(params.answer_language)) or None,
            pad_token_id=_first_not_none(self.tokenizer.pad_token_id, self.eos_ids[0]))
        input_ids = torch.tensor([ids], dtype=torch.long, device=self.model.device)
        return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids),
                "generation_config": config, "streamer": streamer,
                "stopping_criteria": StoppingCriteriaList([_EventStop(cancel, halt)])}

    def _run(self, kwargs: dict, streamer, failure: list, seed: int) -> None:
        import torch

        try:
            torch.manual_seed(seed)
            with torch.inference_mode():
                self.model.generate(**kwargs)
        except BaseException as exc:  # surfaced in the consumer thread
            failure.append(exc)
            streamer.end()


class _CountingStreamer(TextIteratorStreamer):
    """TextIteratorStreamer that also counts generated tokens."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.generated = 0

    def put(self, value) -> None:
        if not self.next_tokens_are_prompt:
            self.generated += int(value.numel())
        super().put(value)


class _EventStop(StoppingCriteria):
    """Ends generation at the next token once the user cancels or the consumer has stopped."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        done = any(event.is_set() for event in self.events)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)
