"""Security Hub: import ASFF findings with ``BatchImportFindings`` (at most 100 per call).

A call can succeed while some findings fail (``FailedFindings``): those are returned with their
error, never dropped silently. Throttling raises :class:`ThrottledError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.clients import LazyClient, raise_if_throttled

MAX_PER_CALL = 100


class FailedFinding(BaseModel):
    model_config = ConfigDict(defer_build=True)
    id: str
    error_code: str | None = None
    error_message: str | None = None


class Imported(BaseModel):
    model_config = ConfigDict(defer_build=True)
    success: int = 0
    failed: list[FailedFinding] = Field(default_factory=list)
    calls: int = 0


class SecurityHubImporter:
    def __init__(self, securityhub: Any | None = None) -> None:
        self._hub = securityhub

    hub = LazyClient("securityhub")

    def import_findings(self, findings: Sequence[dict[str, Any]]) -> Imported:
        out = Imported()
        for start in range(0, len(findings), MAX_PER_CALL):
            batch = list(findings[start : start + MAX_PER_CALL])
            try:
                response = self.hub.batch_import_findings(Findings=batch)
            except ClientError as exc:
                raise_if_throttled(exc, "BatchImportFindings")
                raise
            out.calls += 1
            out.success += int(response.get("SuccessCount", 0))
            out.failed.extend(
                FailedFinding(
                    id=str(f.get("Id", "")), error_code=f.get("ErrorCode"), error_message=f.get("ErrorMessage")
                )
                for f in response.get("FailedFindings", [])
            )
        return out
