"""Synthetic LLM traffic for the demo and the tests: SageMaker data-capture records of chat completions.

``normal`` traffic is what a baseline is built from; ``drifted`` traffic has the change a new user
population brings: prompts twice as long, shorter answers, more refusals, slower responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson

WORDS = [
    "the",
    "model",
    "endpoint",
    "latency",
    "token",
    "prompt",
    "response",
    "customer",
    "order",
    "invoice",
    "shipping",
    "return",
    "policy",
    "account",
    "password",
    "reset",
    "billing",
    "plan",
    "upgrade",
    "help",
    "question",
    "answer",
    "summary",
    "detail",
    "please",
    "thanks",
]
REFUSAL = "I'm sorry, but I can't help with that."


@dataclass(frozen=True)
class Traffic:
    prompt_words: float = 60.0
    answer_words: float = 80.0
    refusal_rate: float = 0.05
    latency_log_ms: float = 6.0  # lognormal location: ~400 ms median


NORMAL = Traffic()
DRIFTED = Traffic(prompt_words=120.0, answer_words=50.0, refusal_rate=0.15, latency_log_ms=6.4)


def chat_capture(rng: np.random.Generator, i: int, at: datetime, traffic: Traffic = NORMAL) -> bytes:
    """One data-capture record (JSON line, no newline) of an OpenAI-style chat completion."""
    prompt = " ".join(rng.choice(WORDS, max(3, int(rng.normal(traffic.prompt_words, 10)))))
    answer = " ".join(rng.choice(WORDS, max(1, int(rng.normal(traffic.answer_words, 20)))))
    if rng.random() < traffic.refusal_rate:
        answer = REFUSAL
    request = {
        "model": "llama-3-8b",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": prompt},
        ],
    }
    response = {
        "id": f"c-{i}",
        "model": "llama-3-8b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(answer) // 4},
        "latency_ms": round(float(rng.lognormal(traffic.latency_log_ms, 0.3)), 1),
        "ttft_ms": round(float(rng.lognormal(4, 0.3)), 1),
    }
    inference_time = (at + timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return orjson.dumps(capture_record(request, response, {"eventId": f"evt-{i}", "inferenceTime": inference_time}))


def capture_record(
    request: dict[str, Any],
    response: dict[str, Any],
    event_metadata: dict[str, Any],
    output_content_type: str = "application/json; charset=utf-8",
) -> dict[str, Any]:
    """A SageMaker data-capture record (the published JSONL shape) of one JSON request and its JSON answer."""
    return {
        "captureData": {
            "endpointInput": {
                "observedContentType": "application/json",
                "mode": "INPUT",
                "data": orjson.dumps(request).decode(),
                "encoding": "JSON",
            },
            "endpointOutput": {
                "observedContentType": output_content_type,
                "mode": "OUTPUT",
                "data": orjson.dumps(response).decode(),
                "encoding": "JSON",
            },
        },
        "eventMetadata": event_metadata,
        "eventVersion": "0",
    }


def records(rng: np.random.Generator, n: int, at: datetime, traffic: Traffic = NORMAL) -> list[bytes]:
    return [chat_capture(rng, i, at, traffic) for i in range(n)]
