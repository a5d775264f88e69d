"""``UpdateEndpoint`` for moto, which does not implement it (moto 5.2).

The rollback workflow moves an endpoint to another endpoint config with ``UpdateEndpoint``. This
adds the operation to moto's SageMaker backend and response handler with AWS's documented effect:
validate that the endpoint and the config exist, then switch the endpoint to the config's
variants and data capture (``RetainAllVariantProperties=false``), ``InService`` afterwards, and
return the endpoint ARN. Deployment guardrails (``DeploymentConfig``) are recorded; traffic
shifting is not simulated (moto has no traffic), but the one outcome a workflow must handle is:
when an alarm named in ``AutoRollbackConfiguration`` is in ALARM (in moto's CloudWatch, e.g. after
``set_alarm_state``), the endpoint ends InService on its previous config, as SageMaker's automatic
rollback leaves it.

``api_instance_types()`` (while a local cloud runs): moto 5.2 checks a variant's ``InstanceType``
against its own list, which predates ``ml.g5``/``ml.g6``/``ml.inf2``; the local cloud checks it against
SageMaker's API model instead (botocore's ``ProductionVariantInstanceType`` enum, what the real
CreateEndpointConfig accepts), so the demo can run on a type with a sourced price. Restored on exit.
Nothing else about moto changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

_INSTALLED = "_sentinel_update_endpoint"


def _update_endpoint(
    self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str, deployment_config: Any = None
) -> str:
    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
        raise ValidationError(message=f'Could not find endpoint "{arn}".')
    try:
        config = self.describe_endpoint_config(endpoint_config_name)
    except KeyError:
        arn = FakeEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
        raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.") from None
    if endpoint.endpoint_status not in {"InService", "Failed"}:
        raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
    if _rollback_alarm_firing(self.account_id, self.region_name, deployment_config):
        endpoint.last_deployment_config = deployment_config  # type: ignore[attr-defined]
        endpoint.last_deployment_rolled_back = True  # type: ignore[attr-defined]
        endpoint.endpoint_status = "InService"
        return str(endpoint.arn)
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
    endpoint.data_capture_config = config.get("DataCaptureConfig") or {}
    endpoint.last_deployment_config = deployment_config  # type: ignore[attr-defined]
    endpoint.endpoint_status = "InService"
    return str(endpoint.arn)


def _rollback_alarm_firing(account_id: str, region: str, deployment_config: Any) -> bool:
    from moto.cloudwatch.models import cloudwatch_backends

    rollback = (deployment_config or {}).get("AutoRollbackConfiguration") or {}
    names = {a.get("AlarmName") for a in rollback.get("Alarms") or [] if isinstance(a, dict)}
    alarms = cloudwatch_backends[account_id][region].alarms
    return any(name in alarms and alarms[name].state_value == "ALARM" for name in names)


def _update_endpoint_response(self: SageMakerResponse) -> Any:
    from moto.core.responses import ActionResult

    arn = self.sagemaker_backend.update_endpoint(  # type: ignore[attr-defined]
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
        deployment_config=self._get_param("DeploymentConfig"),
    )
    return ActionResult({"EndpointArn": arn})


def install() -> None:
    if getattr(SageMakerModelBackend, _INSTALLED, False):
        return
    SageMakerModelBackend.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
    SageMakerResponse.update_endpoint = _update_endpoint_response  # type: ignore[attr-defined]
    setattr(SageMakerModelBackend, _INSTALLED, True)


@cache
def production_variant_instance_types() -> frozenset[str]:
    """The instance types SageMaker's CreateEndpointConfig accepts (its API model, shipped with botocore)."""
    import botocore.session
    from botocore.model import StringShape

    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("ProductionVariantInstanceType")
    if not isinstance(shape, StringShape) or not shape.enum:
        raise LookupError("botocore's SageMaker model has no ProductionVariantInstanceType enum")
    return frozenset(shape.enum)


def _validate_instance_type(_config: FakeEndpointConfig, instance_type: str) -> None:
    if instance_type not in production_variant_instance_types():
        raise ValidationError(
            message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
            "Member must satisfy enum value set (ProductionVariantInstanceType)"
        )


@contextmanager
def api_instance_types() -> Iterator[None]:
    """Validate ProductionVariants' InstanceType against SageMaker's API model, not moto's older list,
    until the block ends (then moto's own check is back)."""
    original = FakeEndpointConfig.validate_instance_type
    FakeEndpointConfig.validate_instance_type = _validate_instance_type  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        FakeEndpointConfig.validate_instance_type = original  # type: ignore[method-assign]
