"""What each variant of an endpoint runs on now: instance type and count (DescribeEndpoint + config).

``DescribeEndpoint`` gives each variant's ``CurrentInstanceCount`` (autoscaling moves it without a new
config); the instance type is in the endpoint config (``DescribeEndpointConfig``), which never changes
once created, so it is read once per config name per container. A serverless variant has no instance
type (it is billed per request, not per instance-hour).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.clients import LazyClient, error_code, raise_if_throttled


class VariantCapacity(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    variant: str
    instance_type: str | None
    """None for a serverless variant."""
    instance_count: int


class CapacityReader:
    def __init__(self, sagemaker: Any | None = None) -> None:
        self._sm = sagemaker
        self._types: dict[str, dict[str, str | None]] = {}

    sm = LazyClient("sagemaker")

    def _config_types(self, config: str) -> dict[str, str | None]:
        if config not in self._types:
            described = self.sm.describe_endpoint_config(EndpointConfigName=config)
            self._types[config] = {
                v["VariantName"]: v.get("InstanceType") for v in described.get("ProductionVariants", [])
            }
        return self._types[config]

    def variants(self, endpoint: str) -> list[VariantCapacity] | None:
        """The endpoint's variants now (None: it does not exist)."""
        try:
            described = self.sm.describe_endpoint(EndpointName=endpoint)
            types = self._config_types(described["EndpointConfigName"])
        except ClientError as exc:
            raise_if_throttled(exc, "SageMaker")
            if error_code(exc) == "ValidationException":
                return None
            raise
        return [
            VariantCapacity(
                variant=v["VariantName"],
                instance_type=types.get(v["VariantName"]),
                instance_count=int(v.get("CurrentInstanceCount") or 0),
            )
            for v in described.get("ProductionVariants", [])
        ]
