"""The Sentinel bus events (source ``llmops.sentinel``): one model per detail-type.

Producers build their event detail through these models (the latency monitor, the drift detector,
the idle check, governance) and the router parses what it receives with the same models, so the two
sides cannot drift apart. The ``detail`` is ours: unknown keys and wrong types are errors
(``extra="forbid"``). The EventBridge envelope is AWS's: it may grow fields (``replay-name`` on a
replayed event), so unknown envelope keys are ignored, the ones we read are validated.

A detail is *claims by a producer*, never authority: the router acts only on endpoints the stack
watches, and a rollback target always comes from the tracked endpoint-config history, never from
``previous_endpoint_config`` (kept in the latency detail for people reading the event).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.validation import first_error

SOURCE = "llmops.sentinel"

EndpointName = Annotated[str, Field(min_length=1, max_length=63)]
Cause = Literal["deployment", "load", "instance", "unknown"]


class SentinelDetail(BaseModel):
    """Base of every detail we put on the bus; ``DETAIL_TYPE`` names the event."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, strict=True)

    DETAIL_TYPE: ClassVar[str]

    summary: str = Field(max_length=1000)

    def wire(self) -> dict[str, Any]:
        """The JSON ``Detail`` to put (None fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class LatencyRegressionDetail(SentinelDetail):
    DETAIL_TYPE: ClassVar[str] = "Latency Regression Detected"

    endpoint_name: EndpointName
    variant_name: str = "AllTraffic"
    cause: Cause
    onset: str | None = None
    detected_at: str | None = None
    magnitude: float | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    previous_endpoint_config: str | None = None
    """Informational only: the router never rolls back to a config named by an event."""
    signal: Literal["latency", "ttft", "tokens_per_s", "error_rate"] = "latency"
    """The detector that raised the episode (p99 latency, time to first token, tokens/s, 5XX rate)."""


class ModelDriftDetail(SentinelDetail):
    DETAIL_TYPE: ClassVar[str] = "Model Drift Detected"

    endpoint_name: EndpointName
    report_id: str
    report_uri: str | None = None
    share_drifted: float
    share_threshold: float | None = None
    drifted_features: list[str] = Field(default_factory=list)
    critical_drifted: list[str] = Field(default_factory=list)
    severity: Literal["negligible", "small", "medium", "large"] | None = None
    """The largest severity among drifted features (domain/drift/stat_tests.py ``Severity``)."""
    reasons: list[str] = Field(default_factory=list)
    window_start: str | None = None
    window_end: str | None = None
    records_current: int | None = None


class EndpointIdleDetail(SentinelDetail):
    DETAIL_TYPE: ClassVar[str] = "Endpoint Idle"

    endpoint_name: EndpointName
    variant_name: str = "AllTraffic"
    idle_hours: float
    since: str | None = None


class GovernanceRemediation(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, strict=True)

    action: str
    plan_status: str
    outcome: str | None = None
    idempotency_key: str
    summary: str


class GovernanceFindingDetail(SentinelDetail):
    DETAIL_TYPE: ClassVar[str] = "Governance Finding"

    policy: str
    check: str
    resource_type: str
    resource_id: str
    severity: str
    compliant: bool | None
    finding_id: str
    source: str
    event_name: str | None = None
    remediation: GovernanceRemediation | None = None
    endpoint_name: EndpointName | None = None


MAX_FINDINGS_PER_EVENT = 50
"""Findings one ``Governance Findings`` event carries (a scan batch of 50 resources yields ~80). The
producer also keeps each event's detail under :data:`MAX_FINDINGS_DETAIL_BYTES`."""
MAX_FINDINGS_DETAIL_BYTES = 200_000
"""PutEvents takes 256 KB per entry (and per call): the rest is the envelope's and a margin."""


class GovernanceFindingsDetail(SentinelDetail):
    """Several NON_COMPLIANT findings of one evaluation (a scan batch, a CloudTrail event) in one event,
    so the router handles them in one invocation instead of one each.

    ``findings`` are kept as raw objects here: the router validates each one on its own against
    :class:`GovernanceFindingDetail` (strict, ``extra="forbid"``), so one malformed finding is rejected
    alone and the others in the event are still routed."""

    DETAIL_TYPE: ClassVar[str] = "Governance Findings"

    findings: list[Any] = Field(min_length=1, max_length=MAX_FINDINGS_PER_EVENT)


DETAILS: dict[str, type[SentinelDetail]] = {
    model.DETAIL_TYPE: model
    for model in (
        LatencyRegressionDetail,
        ModelDriftDetail,
        EndpointIdleDetail,
        GovernanceFindingDetail,
        GovernanceFindingsDetail,
    )
}


class _Envelope(BaseModel):
    """The EventBridge envelope around a Sentinel detail (AWS's shape: unknown keys ignored)."""

    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True)

    version: str = "0"
    id: Annotated[str, Field(min_length=1, strict=True)]
    detail_type: Annotated[str, Field(alias="detail-type", strict=True)]
    source: Annotated[str, Field(strict=True)]
    account: str | None = None
    time: Annotated[str, Field(strict=True)]
    region: str | None = None
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any]


class BusEvent(BaseModel):
    """A parsed Sentinel bus event: the envelope fields we use and the typed detail."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    id: str
    detail_type: str
    time: str
    detail: SentinelDetail


_ENVELOPE = TypeAdapter(_Envelope)


def is_sentinel_detail_type(value: Any) -> bool:
    """True for a ``detail-type`` string we model (a list or dict is simply not one)."""
    return isinstance(value, str) and value in DETAILS


def parse_bus_event(event: Any) -> BusEvent:
    """A Sentinel bus event -> :class:`BusEvent`; anything else is an :class:`InvalidEventError`."""
    if not isinstance(event, dict):
        raise InvalidEventError(f"bus event must be a JSON object, got {type(event).__name__}")
    try:
        envelope = _ENVELOPE.validate_python(event)
    except ValidationError as exc:
        raise InvalidEventError(f"not a Sentinel bus event: {first_error(exc)}") from exc
    model = DETAILS.get(envelope.detail_type)
    if model is None or envelope.source != SOURCE:
        raise InvalidEventError(
            f"unsupported event {envelope.source!r}/{envelope.detail_type!r}; expected source {SOURCE!r} with one of "
            + ", ".join(sorted(DETAILS))
        )
    try:
        detail = model.model_validate(envelope.detail)
    except ValidationError as exc:
        raise InvalidEventError(f"{envelope.detail_type} event {envelope.id}: detail.{first_error(exc)}") from exc
    return BusEvent(id=envelope.id, detail_type=envelope.detail_type, time=envelope.time, detail=detail)
