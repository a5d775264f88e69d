"""SageMaker for the fleet tracker: ListEndpoints, DescribeEndpoint, ListTags; AddTags/DeleteTags of the stack tag."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.clients import LazyClient, error_code, raise_if_throttled
from llmops_sentinel.domain.fleet.tags import STACK_TAG


class EndpointView(BaseModel):
    """An endpoint as a fresh DescribeEndpoint + ListTags read shows it."""

    model_config = ConfigDict(frozen=True)

    name: str
    """The canonical name (DescribeEndpoint's ``EndpointName``, not an ARN's lowercased one)."""
    arn: str
    status: str
    variants: list[str]
    tags: dict[str, str]


def _not_found(exc: ClientError) -> bool:
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return error_code(exc) in {"ValidationException", "ResourceNotFound"} and "could not find" in message.lower()


class FleetEndpoints:
    def __init__(self, sm: Any | None = None) -> None:
        self._sm = sm

    sm = LazyClient("sagemaker")

    def names(self) -> list[str]:
        """Every endpoint in the account and region (ListEndpoints, paginated)."""
        out: list[str] = []
        request: dict[str, Any] = {"MaxResults": 100}
        while True:
            page = self._call("ListEndpoints", self.sm.list_endpoints, **request)
            out.extend(str(e["EndpointName"]) for e in page.get("Endpoints", []))
            if not page.get("NextToken"):
                return out
            request["NextToken"] = page["NextToken"]

    def read(self, name: str) -> EndpointView | None:
        """DescribeEndpoint + ListTags; None when the endpoint does not exist."""
        try:
            described = self.sm.describe_endpoint(EndpointName=name)
        except ClientError as exc:
            raise_if_throttled(exc, "SageMaker DescribeEndpoint")
            if _not_found(exc):
                return None
            raise
        arn = str(described["EndpointArn"])
        variants = [str(v["VariantName"]) for v in described.get("ProductionVariants") or [] if v.get("VariantName")]
        return EndpointView(
            name=str(described["EndpointName"]),
            arn=arn,
            status=str(described.get("EndpointStatus", "")),
            variants=variants,
            tags=self.tags(arn),
        )

    def resolve(self, lowered: str) -> list[str]:
        """Canonical names of the endpoints whose lowercased name is ``lowered`` (from an ARN).

        DescribeEndpoint on the lowercased name first (one call when it resolves); else every endpoint
        listed and compared lowercased (``NameContains`` is not documented as case-insensitive, and an
        emulator may compare exactly), so a mixed-case endpoint's AddTags is never missed."""
        found = self.read(lowered)
        if found is not None:
            return [found.name]
        return [name for name in self.names() if name.lower() == lowered]

    def tags(self, arn: str) -> dict[str, str]:
        out: dict[str, str] = {}
        request: dict[str, Any] = {"ResourceArn": arn, "MaxResults": 100}
        while True:
            page = self._call("ListTags", self.sm.list_tags, **request)
            out.update({str(t["Key"]): str(t.get("Value", "")) for t in page.get("Tags", [])})
            if not page.get("NextToken"):
                return out
            request["NextToken"] = page["NextToken"]

    def add_stack_tag(self, arn: str, stack: str) -> None:
        self._call("AddTags", self.sm.add_tags, ResourceArn=arn, Tags=[{"Key": STACK_TAG, "Value": stack}])

    def remove_stack_tag(self, arn: str) -> None:
        self._call("DeleteTags", self.sm.delete_tags, ResourceArn=arn, TagKeys=[STACK_TAG])

    @staticmethod
    def _call(what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ClientError as exc:
            raise_if_throttled(exc, f"SageMaker {what}")
            raise


SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


class FleetScalableTargets:
    """Application Auto Scaling for the fleet tracker: an endpoint's variant targets and their stack tag.

    The remediation roles may register a scalable target only when it carries ``sentinel:stack`` (IAM by
    tag), so a watched endpoint's targets are tagged with it, and untagged when it is offboarded."""

    def __init__(self, client: Any | None = None) -> None:
        self._aas = client

    aas = LazyClient("application-autoscaling")

    def of(self, endpoint: str, variants: list[str]) -> list[str]:
        """ARNs of the registered targets of ``endpoint``'s variants (DescribeScalableTargets, paginated)."""
        if not variants:
            return []
        out: list[str] = []
        request: dict[str, Any] = {
            "ServiceNamespace": "sagemaker",
            "ScalableDimension": SCALABLE_DIMENSION,
            "ResourceIds": [f"endpoint/{endpoint}/variant/{v}" for v in variants],
        }
        while True:
            page = self._call("DescribeScalableTargets", self.aas.describe_scalable_targets, **request)
            targets = page.get("ScalableTargets", [])
            out.extend(str(t["ScalableTargetARN"]) for t in targets if t.get("ScalableTargetARN"))
            if not page.get("NextToken"):
                return out
            request["NextToken"] = page["NextToken"]

    def stack_of(self, arn: str) -> str | None:
        page = self._call("ListTagsForResource", self.aas.list_tags_for_resource, ResourceARN=arn)
        value = (page.get("Tags") or {}).get(STACK_TAG)
        return None if value is None else str(value)

    def add_stack_tag(self, arn: str, stack: str) -> None:
        self._call("TagResource", self.aas.tag_resource, ResourceARN=arn, Tags={STACK_TAG: stack})

    def remove_stack_tag(self, arn: str) -> None:
        self._call("UntagResource", self.aas.untag_resource, ResourceARN=arn, TagKeys=[STACK_TAG])

    @staticmethod
    def _call(what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ClientError as exc:
            raise_if_throttled(exc, f"Application Auto Scaling {what}")
            raise
