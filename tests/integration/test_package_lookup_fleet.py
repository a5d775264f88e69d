"""A model package approved in ``defaults.retrain.model_package_group`` finds the tag-onboarded endpoint
that inherits the group: the router's lookup reads the fleet registry, not only the configured names and
the policy's per-endpoint entries (local cloud, real router and deploy machine)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT, create_endpoint
from tests.integration.fleet_helpers import seed_fleet
from tests.integration.remediation_helpers import policy_text, route
from tests.integration.test_deploy_workflow import approval_event

GROUP = "fleet-llm"


def approved(cloud: LocalCloud) -> str:
    sm = cloud.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    arn: str = sm.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm:3"}],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    return arn


def policy() -> str:
    """Defaults deploy GROUP; the configured endpoint's own entry deploys another group."""
    base = json.loads(policy_text(retrain={"model_package_group": GROUP}))
    base["endpoints"] = {ENDPOINT: {"retrain": {"model_package_group": "demo-llm"}}}
    return json.dumps(base)


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    params = {"EndpointName": ENDPOINT, "VerifyWaitSeconds": "1", "RemediationPolicy": policy()}
    with LocalCloud(parameters=params) as c:
        create_endpoint(c)
        yield c


def test_an_approved_package_of_the_default_group_finds_the_tag_onboarded_endpoint(cloud: LocalCloud) -> None:
    seed_fleet(cloud, ("fleet-a",))
    started = route(cloud, approval_event(approved(cloud), group=GROUP))
    assert (started["status"], started["action"], started["endpoint_name"]) == ("started", "deploy", "fleet-a")
    cloud.wait_for_execution(started["execution_arn"])  # no execution thread left behind


def test_two_tag_onboarded_endpoints_inheriting_the_group_are_ambiguous(cloud: LocalCloud) -> None:
    """One package, one endpoint: two owners deploy nothing, and the reason names both."""
    seed_fleet(cloud, ("fleet-a", "fleet-b"))
    ignored = route(cloud, approval_event(approved(cloud), group=GROUP))
    assert ignored["status"] == "ignored", ignored
    assert "2 watched endpoints (fleet-a, fleet-b)" in ignored["reason"]


def test_an_unregistered_endpoint_is_not_an_owner(cloud: LocalCloud) -> None:
    create_endpoint(cloud, name="fleet-a")  # exists, but the fleet tracker never onboarded it
    ignored = route(cloud, approval_event(approved(cloud), group=GROUP))
    assert ignored["status"] == "ignored" and "no watched endpoint deploys" in ignored["reason"], ignored
