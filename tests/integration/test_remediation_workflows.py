"""Each remediation workflow executed end to end in moto (real ASL), from the router's signal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import VARIANT, create_endpoint, instance_count
from tests.integration.remediation_helpers import (
    ENDPOINT,
    audit,
    load_regression,
    policy_text,
    route,
    router_event,
    task_token,
)

BASE = {"VerifyWaitSeconds": "1", "VerifyMaxAttempts": "3", "EndpointName": ENDPOINT}


def messages(cloud: LocalCloud) -> list[str]:
    return cloud.sns_messages(cloud.stack.ref("NotificationTopic"))


def endpoint_config(cloud: LocalCloud) -> str:
    return str(cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"])


def in_service_event(config: str, event_id: str) -> dict[str, Any]:
    return {
        "EndpointName": ENDPOINT,
        "EndpointConfigName": config,
        "EndpointStatus": "IN_SERVICE",
        "ProductionVariants": [{"DesiredWeight": 1.0, "DesiredInstanceCount": 1.0}],
        "event_id": event_id,
    }


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters=BASE) as running:
        yield running


def test_idle_endpoint_scales_down_to_the_floor(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=3)
    started = route(cloud, router_event("endpoint_idle.json"))
    assert (started["status"], started["action"]) == ("started", "scale-down")
    execution = cloud.wait_for_execution(started["execution_arn"])
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["instances"] == 1  # idle: straight to min_instances
    assert instance_count(cloud) == 1


def test_scale_out_keeps_the_autoscaling_minimum_in_step(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=1)
    resource = f"endpoint/{ENDPOINT}/variant/{VARIANT}"
    aas = cloud.client("application-autoscaling")
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    started = route(cloud, load_regression("occurrence-1"))
    assert cloud.wait_for_execution(started["execution_arn"])["status"] == "SUCCEEDED"
    target = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])["ScalableTargets"][0]
    assert (target["MinCapacity"], instance_count(cloud)) == (2, 2)


def test_rollback_restores_the_previous_config_recorded_by_the_tracker(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=1)  # on demo-llm-endpoint-config-v1
    sm = cloud.client("sagemaker")
    v1 = endpoint_config(cloud)
    cloud.put_event("aws.sagemaker", "SageMaker Endpoint State Change", in_service_event(v1, "1"))
    described = sm.describe_endpoint_config(EndpointConfigName=v1)
    sm.create_endpoint_config(
        EndpointConfigName=f"{ENDPOINT}-config-v2", ProductionVariants=described["ProductionVariants"]
    )
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-config-v2")
    cloud.put_event("aws.sagemaker", "SageMaker Endpoint State Change", in_service_event(f"{ENDPOINT}-config-v2", "2"))
    tracked = [i for i in cloud.runtime.invocations if i.function == "EndpointTrackerFunction"]
    assert [i.result["status"] for i in tracked] == ["recorded", "recorded"]

    started = route(cloud, router_event("latency_regression_deployment_no_history.json"))
    assert (started["status"], started["action"]) == ("started", "rollback")
    execution = cloud.wait_for_execution(started["execution_arn"])
    assert execution["status"] == "SUCCEEDED", cloud.describe_history(started["execution_arn"], 12)
    assert json.loads(execution["output"]) == {
        "outcome": "rolled-back",
        "endpoint_name": ENDPOINT,
        "from_config": f"{ENDPOINT}-config-v2",
        "to_config": v1,
    }
    assert endpoint_config(cloud) == v1
    assert any(f"Rolled back {ENDPOINT}" in m for m in messages(cloud))
    assert audit(cloud)[0]["status"] == "SUCCEEDED"


def test_rollback_with_no_history_only_notifies(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=1)
    result = route(cloud, router_event("latency_regression_deployment_no_history.json"))
    assert (result["status"], result["action"]) == ("notified", "rollback")
    assert any("no previous endpoint config is recorded" in m for m in messages(cloud))


def create_group(cloud: LocalCloud, name: str = "demo-llm") -> None:
    cloud.client("sagemaker").create_model_package_group(ModelPackageGroupName=name)


def retrain_policy(**retrain: Any) -> str:
    settings = {
        "training_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-train:1",
        "training_input_s3_uri": "s3://demo-llm-data/train/",
        "output_s3_uri": "s3://demo-llm-data/models/",
        "model_package_group": "demo-llm",
        # moto's training jobs report exactly one metric, train:progress = 100.
        "objective_metric": "train:progress",
        "objective": "maximize",
        **retrain,
    }
    return policy_text(retrain=settings)


def test_retrain_on_drift_trains_on_spot_evaluates_and_registers_pending_approval() -> None:
    params = {**BASE, "RemediationPolicy": retrain_policy(use_spot=True, checkpoint_s3_uri="s3://demo-llm-data/ckpt/")}
    with LocalCloud(parameters=params) as cloud:
        create_endpoint(cloud, instances=1)
        create_group(cloud)
        started = route(cloud, router_event("drift_detected.json"))
        assert (started["status"], started["action"]) == ("started", "retrain")
        execution = cloud.wait_for_execution(started["execution_arn"])
        assert execution["status"] == "SUCCEEDED", cloud.describe_history(started["execution_arn"], 12)
        sm = cloud.client("sagemaker")
        (job,) = sm.list_training_jobs()["TrainingJobSummaries"]
        described = sm.describe_training_job(TrainingJobName=job["TrainingJobName"])
        assert described["EnableManagedSpotTraining"] is True
        assert described["CheckpointConfig"]["S3Uri"] == "s3://demo-llm-data/ckpt/"
        assert described["EnableInterContainerTrafficEncryption"] is True
        assert described["RoleArn"] == "arn:aws:iam::123456789012:role/sentinel-training"
        assert described["ResourceConfig"]["VolumeKmsKeyId"] == cloud.stack.attribute("SentinelKey", "Arn")
        (package,) = sm.list_model_packages(ModelPackageGroupName="demo-llm")["ModelPackageSummaryList"]
        assert package["ModelApprovalStatus"] == "PendingManualApproval"
        assert any("Registered" in m for m in messages(cloud))


def test_retrain_candidate_not_better_than_approved_model_is_not_registered() -> None:
    with LocalCloud(parameters={**BASE, "RemediationPolicy": retrain_policy()}) as cloud:
        create_endpoint(cloud, instances=1)
        create_group(cloud)
        sm = cloud.client("sagemaker")
        sm.create_model_package(
            ModelPackageGroupName="demo-llm",
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [{"Image": "img:1", "ModelDataUrl": "s3://b/m.tar.gz"}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            CustomerMetadataProperties={"objective_metric": "train:progress", "objective_value": "100"},
        )
        started = route(cloud, router_event("drift_detected.json"))
        execution = cloud.wait_for_execution(started["execution_arn"])
        assert execution["status"] == "SUCCEEDED"
        assert len(sm.list_model_packages(ModelPackageGroupName="demo-llm")["ModelPackageSummaryList"]) == 1
        assert any("not registered" in m and "not better" in m for m in messages(cloud))
        assert audit(cloud)[0]["status"] == "UNCHANGED"


def approval_cloud(timeout_s: int = 3600) -> LocalCloud:
    policy = policy_text(actions={"scale-out": {"require_approval": True, "approval_timeout_seconds": timeout_s}})
    return LocalCloud(parameters={**BASE, "RemediationPolicy": policy})


def wait_for_approval_request(cloud: LocalCloud, execution_arn: str) -> str:
    import time

    for _ in range(100):
        try:
            return task_token(cloud)
        except AssertionError:
            time.sleep(0.05)
    raise AssertionError(cloud.execution_history(execution_arn))


def test_approved_scale_out_waits_for_the_human_then_acts() -> None:
    with approval_cloud() as cloud:
        create_endpoint(cloud, instances=1)
        started = route(cloud, load_regression("occurrence-1"))
        token = wait_for_approval_request(cloud, started["execution_arn"])
        assert instance_count(cloud) == 1  # nothing happens before approval
        cloud.client("stepfunctions").send_task_success(taskToken=token, output=json.dumps({"approved_by": "oncall"}))
        assert cloud.wait_for_execution(started["execution_arn"])["status"] == "SUCCEEDED"
        assert instance_count(cloud) == 2


def test_rejected_approval_does_nothing() -> None:
    with approval_cloud() as cloud:
        create_endpoint(cloud, instances=1)
        started = route(cloud, load_regression("occurrence-1"))
        token = wait_for_approval_request(cloud, started["execution_arn"])
        cloud.client("stepfunctions").send_task_failure(taskToken=token, error="ApprovalRejectedError", cause="no")
        execution = cloud.wait_for_execution(started["execution_arn"])
        assert execution["status"] == "SUCCEEDED"
        assert json.loads(execution["output"])["outcome"] == "not-approved"
        assert instance_count(cloud) == 1
        assert audit(cloud)[0]["status"] == "REJECTED"


def test_approval_timeout_defaults_to_doing_nothing() -> None:
    with approval_cloud(timeout_s=1) as cloud:
        create_endpoint(cloud, instances=1)
        started = route(cloud, load_regression("occurrence-1"))
        execution = cloud.wait_for_execution(started["execution_arn"], timeout_s=30)
        assert json.loads(execution["output"])["outcome"] == "not-approved"
        assert instance_count(cloud) == 1
        assert audit(cloud)[0]["status"] == "APPROVAL_TIMED_OUT"


def test_endpoint_that_never_settles_is_reverted_and_reported(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.update_endpoint_weights_and_capacities

    def stuck(self: Any, endpoint_name: str, desired_weights_and_capacities: list[dict[str, Any]]) -> str:
        arn = original(self, endpoint_name, desired_weights_and_capacities)
        self.endpoints[endpoint_name].endpoint_status = "Updating"  # the new capacity never comes up
        return arn

    monkeypatch.setattr(SageMakerModelBackend, "update_endpoint_weights_and_capacities", stuck)
    create_endpoint(cloud, instances=1)
    started = route(cloud, load_regression("occurrence-1"))
    execution = cloud.wait_for_execution(started["execution_arn"], timeout_s=30)
    assert (execution["status"], execution["error"]) == ("FAILED", "EndpointNotInServiceError")
    assert instance_count(cloud) == 1  # reverted, nothing half-done
    assert any("reverted to 1" in m for m in messages(cloud))
    assert audit(cloud)[0]["status"] == "REVERTED"
