"""SageMaker: the fresh reads and the two idempotent writes of the deploy workflow's prepare step."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from llmops_sentinel.adapters.clients import LazyClient, error_code, raise_if_throttled
from llmops_sentinel.domain.remediation.deployment import CurrentModel, ModelPackage
from llmops_sentinel.errors import BadInputError

_NOT_FOUND = {"ValidationException", "ResourceNotFound"}


class DeploymentTargetNotFoundError(BadInputError):
    """The endpoint, its config, its model or the model package does not exist."""


class ModelDeployer:
    def __init__(self, sagemaker: Any | None = None) -> None:
        self._sm = sagemaker

    sm = LazyClient("sagemaker")

    def _read(self, what: str, call: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return dict(call(**kwargs))
        except ClientError as exc:
            raise_if_throttled(exc, what)
            if error_code(exc) in _NOT_FOUND:
                raise DeploymentTargetNotFoundError(f"{what}: {exc}") from exc
            raise

    def package(self, arn: str) -> ModelPackage:
        described = self._read(f"model package {arn}", self.sm.describe_model_package, ModelPackageName=arn)
        return ModelPackage.model_validate(described)

    def endpoint_config(self, endpoint_name: str) -> tuple[str, dict[str, Any]]:
        """(endpoint status, its current endpoint config as DescribeEndpointConfig returns it)."""
        endpoint = self._read(f"endpoint {endpoint_name}", self.sm.describe_endpoint, EndpointName=endpoint_name)
        name = str(endpoint["EndpointConfigName"])
        config = self._read(f"endpoint config {name}", self.sm.describe_endpoint_config, EndpointConfigName=name)
        return str(endpoint.get("EndpointStatus", "")), config

    def model(self, name: str) -> CurrentModel:
        return CurrentModel.from_describe(self._read(f"model {name}", self.sm.describe_model, ModelName=name))

    def _create(self, what: str, call: Any, request: dict[str, Any], describe: Any, **key: str) -> bool:
        """Create once: False when a retried step finds what the first attempt created.

        Looked up first (a retry after a timeout is the common case), and an "already existing"
        ValidationException from a concurrent attempt counts as found too.
        """
        try:
            describe(**key)
            return False
        except ClientError as exc:
            raise_if_throttled(exc, what)
            if error_code(exc) not in _NOT_FOUND:
                raise
        try:
            call(**request)
        except ClientError as exc:
            message = str(exc.response.get("Error", {}).get("Message", ""))
            if error_code(exc) == "ValidationException" and "already exist" in message:
                return False
            raise_if_throttled(exc, what)
            raise
        return True

    def create_model(self, request: dict[str, Any]) -> bool:
        name = request["ModelName"]
        return self._create(f"model {name}", self.sm.create_model, request, self.sm.describe_model, ModelName=name)

    def create_endpoint_config(self, request: dict[str, Any]) -> bool:
        name = request["EndpointConfigName"]
        return self._create(
            f"endpoint config {name}",
            self.sm.create_endpoint_config,
            request,
            self.sm.describe_endpoint_config,
            EndpointConfigName=name,
        )
