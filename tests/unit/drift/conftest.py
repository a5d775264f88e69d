"""Shared helpers for the drift core tests: fixture paths and seeded synthetic traffic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import pytest

from sentinel_dev.local.traffic import WORDS, capture_record
from tests.conftest import SHARED_FIXTURES

SHARED = SHARED_FIXTURES / "sagemaker"


@pytest.fixture(scope="session")
def sagemaker_fixtures() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED}")
    return SHARED


def chat_capture_line(rng: np.random.Generator, i: int, prompt_words: float = 60.0) -> bytes:
    """One realistic data-capture record of an OpenAI-style chat completion."""
    prompt = " ".join(rng.choice(WORDS, max(3, int(rng.normal(prompt_words, 10)))))
    answer = " ".join(rng.choice(WORDS, max(1, int(rng.normal(80, 20)))))
    if rng.random() < 0.05:
        answer = "I'm sorry, but I can't help with that."
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
        "latency_ms": float(rng.lognormal(6, 0.3)),
        "ttft_ms": float(rng.lognormal(4, 0.3)),
    }
    metadata = {"eventId": f"evt-{i}", "inferenceTime": f"2024-05-01T10:{i % 60:02d}:00Z"}
    return orjson.dumps(capture_record(request, response, metadata))


@pytest.fixture
def chat_lines() -> Callable[[int, int], list[bytes]]:
    def make(n: int, seed: int = 0) -> list[bytes]:
        rng = np.random.default_rng(seed)
        return [chat_capture_line(rng, i) for i in range(n)]

    return make
