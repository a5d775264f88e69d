"""``Governance Findings`` events (a scan batch's findings in one event) through the router as deployed:
one invocation, each finding decided, deduplicated, leased and audited on its own, and a malformed
finding rejected alone (local cloud)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.bus_events import MAX_FINDINGS_PER_EVENT, GovernanceFindingDetail
from llmops_sentinel.models.signals import parse_finding_batch, parse_signal
from llmops_sentinel.services.governance import finding_events
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import create_endpoint
from tests.integration.remediation_helpers import ENDPOINT, all_executions, audit, router_event

BATCH = "governance_findings_batch.json"
BASE = {"VerifyWaitSeconds": "1", "VerifyMaxAttempts": "3", "EndpointName": ENDPOINT}


def results(record: Any) -> list[dict[str, Any]]:
    assert record.ok, record.logs
    answer: dict[str, Any] = record.result
    return list(answer["results"]) if "results" in answer else [answer]


def test_every_finding_of_the_batch_is_routed_in_one_invocation() -> None:
    with LocalCloud(parameters=BASE) as cloud:
        event = router_event(BATCH)
        routed = results(cloud.invoke("AlarmRouterFunction", event))
        assert [r["status"] for r in routed] == ["notified"] * 3
        ids = [r["decision_id"] for r in routed]
        assert len(set(ids)) == 3  # one decision per finding, not one per event
        assert [i.function for i in cloud.runtime.invocations].count("AlarmRouterFunction") == 1
        messages = cloud.sns_messages(cloud.stack.ref("NotificationTopic"))
        for finding in event["detail"]["findings"]:
            assert sum(finding["summary"] in m for m in messages) == 1
        # the two endpoint-config findings name the watched endpoint: one audit item each
        assert sorted(a["decision_id"] for a in audit(cloud)) == sorted(ids[:2])

        again = results(cloud.invoke("AlarmRouterFunction", event))  # a redelivery of the same event
        assert [r["decision_id"] for r in again] == ids
        assert sorted((a["decision_id"], a["deliveries"]) for a in audit(cloud)) == sorted((i, 2) for i in ids[:2])


def test_a_malformed_finding_is_rejected_alone() -> None:
    with LocalCloud(parameters=BASE) as cloud:
        event = router_event(BATCH)
        good = event["detail"]["findings"]
        forged = {**good[0], "finding_id": "forged/1", "previous_endpoint_config": "attacker-config"}
        event["detail"]["findings"] = [good[0], "not an object", forged, {"policy": "only-a-name"}, good[2]]
        routed = results(cloud.invoke("AlarmRouterFunction", event))
        assert sorted(r["status"] for r in routed) == ["notified", "notified", "rejected", "rejected", "rejected"]
        reasons = [r["reason"] for r in routed if r["status"] == "rejected"]
        assert any("findings[2]" in why and "previous_endpoint_config" in why for why in reasons)
        assert {r["decision_id"] for r in routed if r["status"] == "rejected"} == {"-"}
        assert len(audit(cloud)) == 1  # the one valid finding that names the endpoint; rejections keep nothing


def test_the_scope_and_the_lease_apply_to_each_finding() -> None:
    """A policy mapping findings to a workflow: the finding on the watched endpoint starts it, the one on
    an unwatched endpoint (a case variant) starts nothing; a redelivery starts nothing more."""
    rules = [{"signal": "governance-finding", "action": "scale-out"}]
    with LocalCloud(parameters={**BASE, "RemediationPolicy": json.dumps({"version": 1, "rules": rules})}) as cloud:
        create_endpoint(cloud, instances=1)
        event = router_event(BATCH)
        watched, unwatched = copy.deepcopy(event["detail"]["findings"][:2])
        unwatched["endpoint_name"] = "Demo-LLM-Endpoint"
        event["detail"]["findings"] = [unwatched, watched]
        first = results(cloud.invoke("AlarmRouterFunction", event))
        assert [(r["status"], r["action"]) for r in first] == [("unwatched", "none"), ("started", "scale-out")]
        again = results(cloud.invoke("AlarmRouterFunction", event))
        assert [r["status"] for r in again] == ["unwatched", "duplicate"]
        assert len(all_executions(cloud)) == 1
        assert audit(cloud, "Demo-LLM-Endpoint") == []


@pytest.mark.parametrize(
    "change",
    [
        {"source": "attacker.events"},
        {"detail": {"summary": "none", "findings": []}},
        {"detail": {"summary": "a dict", "findings": {"policy": "x"}}},
        {"detail": {"summary": "too many", "findings": [{}] * (MAX_FINDINGS_PER_EVENT + 1)}},
    ],
)
def test_a_malformed_batch_is_rejected_whole(change: dict[str, Any]) -> None:
    event = {**router_event(BATCH), **change}
    with pytest.raises(InvalidEventError):
        parse_finding_batch(event)
    with LocalCloud(parameters=BASE) as cloud:
        record = cloud.invoke("AlarmRouterFunction", event)
        assert record.ok, record.logs
        assert (record.result["status"], record.result["error"]) == ("rejected", "InvalidEventError")
        assert cloud.sns_messages(cloud.stack.ref("NotificationTopic")) == []


def test_a_batch_is_never_read_as_one_signal() -> None:
    with pytest.raises(InvalidEventError, match="parse_finding_batch"):
        parse_signal(router_event(BATCH))


def _finding(i: int, summary_length: int) -> GovernanceFindingDetail:
    return GovernanceFindingDetail(
        policy=f"policy-{i % 3}",
        check="sagemaker-endpoint-config-kms",
        resource_type="AWS::SageMaker::EndpointConfig",
        resource_id=f"config-{i:04d}",
        severity="HIGH",
        compliant=False,
        summary="x" * summary_length,
        finding_id=f"policy-{i % 3}/config-{i:04d}",
        source="scan",
    )


@pytest.mark.parametrize(
    ("count", "summary_length", "max_bytes"), [(1, 10, 200_000), (137, 50, 200_000), (40, 900, 9_000)]
)
def test_finding_events_carry_every_finding_once_within_the_limits(
    count: int, summary_length: int, max_bytes: int
) -> None:
    details = [
        (_finding(i, summary_length), f"arn:aws:sagemaker:us-east-1:1:endpoint-config/config-{i:04d}")
        for i in range(count)
    ]
    events = finding_events(details, max_bytes=max_bytes)
    assert [i for e in events for i in e.indexes] == list(range(count))  # in order, each once
    for n, e in enumerate(events):
        assert 1 <= len(e.detail.findings) <= MAX_FINDINGS_PER_EVENT
        assert len(json.dumps(e.detail.findings).encode()) <= max_bytes
        assert e.resources == [details[i][1] for i in e.indexes]
        envelope = {
            "version": "0",
            "id": f"event-{n}",
            "detail-type": e.detail.DETAIL_TYPE,
            "source": "llmops.sentinel",
            "time": "2026-12-04T00:00:00Z",
            "detail": json.loads(json.dumps(e.detail.wire())),
        }
        signals, rejected = parse_finding_batch(envelope)  # what the router reads back
        assert rejected == []
        assert [s.attributes["finding_id"] for s in signals] == [details[i][0].finding_id for i in e.indexes]
        assert all(s.source_id == f"event-{n}/{s.attributes['finding_id']}" for s in signals)
    if max_bytes < 200_000:
        assert len(events) > -(-count // MAX_FINDINGS_PER_EVENT)  # the byte limit, not the count, cut them
