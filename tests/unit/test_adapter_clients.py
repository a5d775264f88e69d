"""The adapters' client kit: injected or shared clients, one list of throttling codes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from llmops_sentinel.adapters.clients import THROTTLING_CODES, LazyClient, client, error_code, raise_if_throttled
from llmops_sentinel.errors import ThrottledError


class Adapter:
    sm = LazyClient("sagemaker")
    hub = LazyClient("securityhub", "_securityhub")

    def __init__(self, sagemaker: Any | None = None, securityhub: Any | None = None) -> None:
        self._sm = sagemaker
        self._securityhub = securityhub


def failure(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")


def test_an_injected_client_wins_and_the_shared_one_is_the_cached_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    fake = object()
    assert Adapter(sagemaker=fake).sm is fake
    assert Adapter(securityhub=fake).hub is fake
    assert Adapter().sm is client("sagemaker")
    assert isinstance(Adapter.__dict__["sm"], LazyClient)


@pytest.mark.parametrize("code", sorted(THROTTLING_CODES))
def test_every_throttling_code_becomes_throttled_error(code: str) -> None:
    with pytest.raises(ThrottledError, match="PutEvents throttled"):
        raise_if_throttled(failure(code), "PutEvents")


@pytest.mark.parametrize("code", ["AccessDeniedException", "ValidationException", ""])
def test_other_errors_pass_through(code: str) -> None:
    raise_if_throttled(failure(code), "Op")  # no exception: the caller re-raises the original
    assert error_code(failure(code)) == code
