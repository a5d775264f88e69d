"""SageMaker endpoints: the deployment evidence of the latency monitor (DescribeEndpoint).

The endpoint config history itself (each config an endpoint ran InService with, and when) is in the
Sentinel table, written by EndpointTrackerFunction and read by ``adapters/latency_store.py``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.clients import LazyClient


class EndpointState(BaseModel):
    """What DescribeEndpoint says about an endpoint's current deployment."""

    model_config = ConfigDict(defer_build=True)

    endpoint_name: str
    endpoint_config: str
    status: str
    last_modified: float
    """Epoch s of the last update (SageMaker's ``LastModifiedTime``)."""
    variants: list[str]


class EndpointReader:
    """DescribeEndpoint, the deployment evidence of the latency monitor."""

    def __init__(self, sagemaker: Any | None = None) -> None:
        self._sm = sagemaker

    sm = LazyClient("sagemaker")

    def describe(self, endpoint: str) -> EndpointState | None:
        """The endpoint's current config and variants (None if it does not exist)."""
        try:
            described = self.sm.describe_endpoint(EndpointName=endpoint)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException":
                return None
            raise
        modified = described.get("LastModifiedTime") or described.get("CreationTime")
        return EndpointState(
            endpoint_name=described["EndpointName"],
            endpoint_config=described["EndpointConfigName"],
            status=described["EndpointStatus"],
            last_modified=modified.timestamp() if modified is not None else 0.0,
            variants=[v["VariantName"] for v in described.get("ProductionVariants", [])],
        )
