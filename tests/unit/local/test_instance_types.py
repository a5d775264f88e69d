"""The local cloud accepts the instance types SageMaker's API model lists (moto 5.2's own list has no
ml.g5), only while it runs: outside ``api_instance_types()`` moto's check is back."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sentinel_dev.local.sagemaker import api_instance_types, production_variant_instance_types


@pytest.fixture
def sagemaker() -> Iterator[object]:
    with mock_aws():
        sm = boto3.client("sagemaker", region_name="us-east-1")
        sm.create_model(
            ModelName="m",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1"},
        )
        yield sm


def _config(sm: object, name: str, instance_type: str) -> None:
    sm.create_endpoint_config(  # type: ignore[attr-defined]
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "v", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": instance_type}
        ],
    )


def test_the_api_model_lists_the_demo_type_and_moto_alone_rejects_it(sagemaker: object) -> None:
    assert {"ml.g5.2xlarge", "ml.g5.xlarge", "ml.g4dn.2xlarge"} <= production_variant_instance_types()
    with pytest.raises(ClientError, match="instanceType"):
        _config(sagemaker, "before", "ml.g5.2xlarge")


def test_inside_the_block_api_types_pass_and_unknown_ones_fail_then_moto_is_restored(sagemaker: object) -> None:
    with api_instance_types():
        _config(sagemaker, "g5", "ml.g5.2xlarge")
        with pytest.raises(ClientError, match="instanceType"):
            _config(sagemaker, "made-up", "ml.x9.huge")
    with pytest.raises(ClientError, match="instanceType"):
        _config(sagemaker, "after", "ml.g5.xlarge")
    described = sagemaker.describe_endpoint_config(EndpointConfigName="g5")  # type: ignore[attr-defined]
    assert described["ProductionVariants"][0]["InstanceType"] == "ml.g5.2xlarge"
