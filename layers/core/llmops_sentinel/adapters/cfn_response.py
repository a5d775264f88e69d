"""Reply to a CloudFormation custom resource request: an HTTP PUT of the response to its presigned ResponseURL."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

TIMEOUT_S = 10


def send(url: str, body: dict[str, Any]) -> int:
    """PUT ``body`` as JSON (no Content-Type, as the presigned URL was signed without one); returns the status."""
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return int(response.status)
