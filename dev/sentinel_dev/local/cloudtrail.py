"""SageMaker API calls that CloudTrail would record, with the record on the default bus.

moto performs the call but has no CloudTrail, so nothing would tell the fleet tracker that an endpoint
was created, updated, deleted or re-tagged. :func:`sagemaker_call` makes the call on moto and then puts
what AWS puts on the account's default bus for a management event: an ``AWS API Call via CloudTrail``
event from ``aws.sagemaker`` whose ``detail`` is the CloudTrail record (shaped like
``../shared/fixtures/aws-events/cloudtrail_records/cloudtrail_record_sagemaker_CreateEndpoint__awsdocs.json``:
``requestParameters`` with AWS's camelCase names, ``responseElements``, ``eventSource``, ...). The
template's rules route it, so tests and the demo follow the real path: call -> event -> tracker.

A call that fails raises as boto3 does, after its record (with ``errorCode``/``errorMessage``, as
CloudTrail records failed calls) is on the bus too.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from llmops_sentinel.errors import SentinelError

TRACKED = ("CreateEndpoint", "UpdateEndpoint", "DeleteEndpoint", "AddTags", "DeleteTags")
_METHOD = {
    "CreateEndpoint": "create_endpoint",
    "UpdateEndpoint": "update_endpoint",
    "DeleteEndpoint": "delete_endpoint",
    "AddTags": "add_tags",
    "DeleteTags": "delete_tags",
}


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def _request_parameters(value: Any) -> Any:
    """boto3's PascalCase parameters as CloudTrail records them (camelCase keys, tag lists kept)."""
    if isinstance(value, dict):
        return {_camel(k): _request_parameters(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_request_parameters(v) for v in value]
    return value


def record(
    cloud: Any, operation: str, params: dict[str, Any], response: dict[str, Any] | None, error: ClientError | None
) -> dict[str, Any]:
    """The CloudTrail record of one SageMaker call (what EventBridge carries as ``detail``)."""
    request = _request_parameters(params)
    if operation in {"AddTags", "DeleteTags"} and isinstance(request.get("resourceArn"), str):
        # SageMaker's ARNs carry the lowercased name; so does what CloudTrail records for them.
        arn = request["resourceArn"]
        head, _, name = arn.rpartition("/")
        request["resourceArn"] = f"{head}/{name.lower()}" if ":endpoint/" in arn else arn
    out: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLELOCAL:pipeline",
            "arn": f"arn:aws:sts::{cloud.account_id}:assumed-role/pipeline/local",
            "accountId": cloud.account_id,
        },
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": operation,
        "awsRegion": cloud.region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": "sentinel-local",
        "requestParameters": request,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": cloud.account_id,
        "eventCategory": "Management",
    }
    if error is not None:
        err = error.response.get("Error", {})
        out |= {"errorCode": str(err.get("Code", "")), "errorMessage": str(err.get("Message", ""))}
    elif response and response.get("EndpointArn"):
        out["responseElements"] = {"endpointArn": response["EndpointArn"]}
    return out


def sagemaker_call(cloud: Any, operation: str, *, tracker_only: bool = False, **params: Any) -> dict[str, Any]:
    """``operation`` on the local cloud's SageMaker, then its CloudTrail event on the default bus.

    ``tracker_only``: hand the event to FleetTrackerFunction alone, as its rule would (the other rules on
    the bus, governance's CloudTrail rule among them, do not see it): for helpers shared by tests whose
    expectations predate the tracker."""
    if operation not in _METHOD:
        raise SentinelError(f"{operation} is not a call the fleet tracker follows ({', '.join(TRACKED)})")
    client = cloud.client("sagemaker")
    response: dict[str, Any] | None = None
    error: ClientError | None = None
    try:
        response = getattr(client, _METHOD[operation])(**params)
    except ClientError as exc:
        error = exc
    detail = json.loads(json.dumps(record(cloud, operation, params, response, error), default=str))
    if tracker_only:
        event = {
            "version": "0",
            "id": detail["eventID"],
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.sagemaker",
            "account": cloud.account_id,
            "time": detail["eventTime"],
            "region": cloud.region,
            "resources": [],
            "detail": detail,
        }
        tracked = cloud.invoke("FleetTrackerFunction", event)
        if not tracked.ok:
            raise SentinelError(
                f"FleetTrackerFunction failed on {operation}: {tracked.error_type}: {tracked.error_message}"
            )
    else:
        cloud.put_event("aws.sagemaker", "AWS API Call via CloudTrail", detail)
    if error is not None:
        raise error
    return response or {}
