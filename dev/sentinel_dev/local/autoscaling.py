"""Tags on Application Auto Scaling scalable targets for moto, which does not implement them (moto 5.2).

The remediation roles may register a scalable target only when it carries ``sentinel:stack`` (IAM by
tag), so the fleet tracker tags the targets of the endpoints it watches. This adds ``TagResource``,
``UntagResource`` and ``ListTagsForResource`` with AWS's documented shapes (``ResourceARN``, ``Tags``
as a map, ``TagKeys``); an unknown ARN is ``ResourceNotFoundException``. The tags live on moto's
target object, so the provisioning snapshot and moto's reset treat them like the target itself.
"""

from __future__ import annotations

import json
from typing import Any

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, FakeScalableTarget
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError

_INSTALLED = "_sentinel_target_tags"
_TAGS = "_sentinel_tags"


class _NotFoundError(JsonRESTError):
    def __init__(self, arn: str) -> None:
        super().__init__("ResourceNotFoundException", f"No scalable target found for {arn}")


def _target(backend: ApplicationAutoscalingBackend, arn: str) -> FakeScalableTarget:
    for by_resource in backend.targets.values():
        for target in by_resource.values():
            if target.arn == arn:
                return target
    raise _NotFoundError(arn)


def _tags(target: FakeScalableTarget) -> dict[str, str]:
    found: dict[str, str] | None = getattr(target, _TAGS, None)
    if found is None:
        found = {}
        setattr(target, _TAGS, found)
    return found


def _tag_resource(self: ApplicationAutoScalingResponse) -> str:
    _tags(_target(self.applicationautoscaling_backend, self._get_param("ResourceARN"))).update(
        {str(k): str(v) for k, v in (self._get_param("Tags") or {}).items()}
    )
    return json.dumps({})


def _untag_resource(self: ApplicationAutoScalingResponse) -> str:
    tags = _tags(_target(self.applicationautoscaling_backend, self._get_param("ResourceARN")))
    for key in self._get_param("TagKeys") or []:
        tags.pop(str(key), None)
    return json.dumps({})


def _list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
    tags = _tags(_target(self.applicationautoscaling_backend, self._get_param("ResourceARN")))
    return json.dumps({"Tags": dict(tags)})


def install() -> None:
    if getattr(ApplicationAutoScalingResponse, _INSTALLED, False):
        return
    handlers: dict[str, Any] = {
        "tag_resource": _tag_resource,
        "untag_resource": _untag_resource,
        "list_tags_for_resource": _list_tags_for_resource,
    }
    for name, fn in handlers.items():
        setattr(ApplicationAutoScalingResponse, name, fn)
    setattr(ApplicationAutoScalingResponse, _INSTALLED, True)
