"""Latency regressions: an online causal detector and a rule-based cause classifier (pure code)."""

from llmops_sentinel.domain.latency.cause import (
    CauseEvidence,
    CauseParams,
    CauseResult,
    EndpointChange,
    Finding,
    InsufficientEvidenceError,
    MetricSeries,
    classify_cause,
)
from llmops_sentinel.domain.latency.detector import DetectorStateError, LatencyDetector, detect
from llmops_sentinel.domain.latency.models import (
    AlarmRecord,
    DetectionResult,
    DetectorState,
    LatencyParams,
    PointStatus,
    SeasonSpec,
    UpdateResult,
)

__all__ = [
    "AlarmRecord",
    "CauseEvidence",
    "CauseParams",
    "CauseResult",
    "DetectionResult",
    "DetectorState",
    "DetectorStateError",
    "EndpointChange",
    "Finding",
    "InsufficientEvidenceError",
    "LatencyDetector",
    "LatencyParams",
    "MetricSeries",
    "PointStatus",
    "SeasonSpec",
    "UpdateResult",
    "classify_cause",
    "detect",
]
