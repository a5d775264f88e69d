"""Wire models of the governance scan: what the list step writes, what each Map batch carries.

The scan state machine passes these between Lambdas:

* ``{"phase": "list"}`` -> the coordinator lists every governed resource (paginated), writes the
  batches as one JSON array to S3 and returns a :class:`Listing` (the Map's ``ItemReader`` reads it);
* each array element is a :class:`ScanBatch` -> the worker fetches, evaluates and reports it and
  returns a :class:`BatchResult`;
* ``{"phase": "summarise", "listing": ..., "results": [...]}`` -> the coordinator totals them.

Batches are formed by the list step (not by an ``ItemBatcher``): moto 5.2's ASL parser rejects
``ItemBatcher``, and pre-batched items run unchanged on AWS.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.domain.governance import ResourceType


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class ScanItem(_Model):
    """One resource to fetch: its type, its name (ARN for managed policies) and, for endpoint configs
    and keys, the endpoints that use it (None: unknown)."""

    type: ResourceType
    id: str = Field(min_length=1)
    used_by_endpoints: list[str] | None = None


class ScanBatch(_Model):
    scan_id: str = Field(min_length=1)
    batch: int = Field(ge=0)
    items: list[ScanItem] = Field(min_length=1)


class Listing(_Model):
    scan_id: str
    bucket: str
    key: str
    batches: int
    resources: int
    by_type: dict[str, int] = Field(default_factory=dict)


class BatchResult(_Model):
    """What a worker returns for one batch; a malformed batch is ``rejected`` (counted, not retried)."""

    status: Literal["evaluated", "rejected"] = "evaluated"
    error: str | None = None
    scan_id: str = "-"
    batch: int = -1
    resources: int = 0
    missing: int = 0
    findings: int = 0
    non_compliant: int = 0
    imported: int = 0
    import_failed: int = 0
    published: int = 0
    publish_failed: int = 0
    remediations: dict[str, int] = Field(default_factory=dict)


class ListRequest(_Model):
    phase: Literal["list"]
    scan_id: str | None = Field(default=None, description="Defaults to the execution name or a timestamp.")


class SummariseRequest(_Model):
    phase: Literal["summarise"]
    listing: Listing
    results: list[BatchResult]


ScanRequest = Annotated[ListRequest | SummariseRequest, Field(discriminator="phase")]


class ScanSummary(_Model):
    status: Literal["summarised"] = "summarised"
    scan_id: str
    resources: int
    batches: int
    batches_reported: int
    batches_rejected: int
    findings: int
    non_compliant: int
    imported: int
    import_failed: int
    published: int
    publish_failed: int
    missing: int
    remediations: dict[str, int]
