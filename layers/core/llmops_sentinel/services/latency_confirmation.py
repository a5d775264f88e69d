"""Ask the latency detector about a latency alarm before the router acts on it.

With ``SENTINEL_LATENCY_CONFIRM_FUNCTION`` set, an ALARM transition of a ``ModelLatency`` alarm (the
static p99 guard or the anomaly band) is sent to the latency monitor in confirmation mode
(synchronous invoke). Its answer turns the signal into:

- confirmed: a ``latency-regression`` signal with the detector's cause, onset, magnitude and, for a
  deployment, the previous endpoint config, so the policy picks rollback / scale-out / notify; the
  alarm's ``source_id`` is kept, so a redelivered alarm maps to the same decision and execution name;
- not confirmed: the decision is recorded as ignored, reason ``not confirmed by the detector: ...``;
- detector unavailable (invoke failed, malformed answer) or without enough history to judge (a new
  endpoint or stack): the alarm keeps its own rule (fail open: the guard alarm must still act when the
  detector cannot answer), and the summary says so.
"""

from __future__ import annotations

from pydantic import ValidationError

from llmops_sentinel.adapters.lambda_ import FunctionInvoker, InvocationFailedError
from llmops_sentinel.models.latency import ConfirmResult
from llmops_sentinel.models.signals import Signal


def confirm_latency_alarm(signal: Signal, function: str, invoker: FunctionInvoker) -> tuple[Signal, str | None]:
    """(signal to decide on, rejection reason or None)."""
    if signal.kind != "latency-alarm" or signal.state != "ALARM" or not signal.endpoint_name or signal.alarm is None:
        return signal, None
    request = {
        "endpoint_name": signal.endpoint_name,
        "variant_name": signal.variant_name or "AllTraffic",
        "alarm_name": signal.alarm.alarm_name,
        "state_timestamp": signal.alarm.state_timestamp,
    }
    try:
        answer = ConfirmResult.model_validate(invoker.call(function, request))
    except (InvocationFailedError, ValidationError) as exc:
        return _undecided(signal, f"detector unavailable: {str(exc).splitlines()[0][:200]}"), None
    if answer.verdict == "insufficient-history":
        return _undecided(signal, f"detector cannot judge yet: {answer.summary[:200]}"), None
    if not answer.confirmed:
        return signal, f"not confirmed by the detector: {answer.summary}"
    attributes = {
        **signal.attributes,
        "cause": answer.cause,
        "onset": answer.onset,
        "detected_at": answer.detected_at,
        "magnitude": answer.magnitude,
        "confirmation": f"confirmed by {function}",
    }
    if answer.previous_endpoint_config:
        attributes["previous_endpoint_config"] = answer.previous_endpoint_config
    if answer.signal:  # latency (p99), ttft, tokens_per_s or error_rate: which detector confirmed it
        attributes["signal"] = answer.signal
    confirmed = Signal(
        kind="latency-regression",
        source_id=signal.source_id,
        occurred_at=signal.occurred_at,
        summary=answer.summary[:300],
        endpoint_name=signal.endpoint_name,
        variant_name=signal.variant_name,
        state=signal.state,
        attributes=attributes,
        alarm=signal.alarm,
    )
    return confirmed, None


def _undecided(signal: Signal, why: str) -> Signal:
    """The alarm keeps its own rule; the audit summary says why the detector did not decide."""
    return signal.model_copy(
        update={
            "summary": f"{signal.summary[:200]} [{why}]",
            "attributes": {**signal.attributes, "confirmation": why},
        }
    )
