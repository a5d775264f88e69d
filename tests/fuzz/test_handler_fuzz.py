"""Every handler in functions/ against mutated events: no unhandled exception, every rejection typed.

Seeds: the sample events in events/<function>/ and the real published events in ../shared/fixtures that
the function's trigger sends (CloudTrail records also wrapped in their EventBridge envelope). Each
example applies 1-4 mutations at random places of a seed (delete a key, null, type swap, huge string,
list/dict in place of a scalar, odd strings, base64 of junk, a non-object event) and invokes the
function the way the local cloud does (handler and environment from template.yaml, one local cloud for
the module, moto behind it).

Accepted outcomes: an answer (whatever it is; a ``"status": "rejected"`` answer must name an error class
ending in ``Error``), or a raised SentinelError subclass (the Step Functions task steps raise typed errors
on purpose). Anything else is an unhandled exception and fails the test.

Examples per function: ``SENTINEL_FUZZ_EXAMPLES`` (default 30; derandomized, so a CI run is reproducible).
The remediation router (alarm_router) answers rejections itself (``{"status": "rejected", ...}``); its
test lists every crash it finds before failing, to show them all at once.
"""

from __future__ import annotations

import base64
import copy
import importlib
import json
import os
import pkgutil
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import llmops_sentinel
from llmops_sentinel.errors import SentinelError
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.template import load_template
from tests.conftest import AWS_EVENTS, EVENTS, REPO, load_json

EXAMPLES = int(os.environ.get("SENTINEL_FUZZ_EXAMPLES", "30"))
FIXTURES: dict[str, list[str]] = {  # function folder -> glob patterns in ../shared/fixtures/aws-events
    "firehose_processor": ["firehose_transformation_*[!E].json", "firehose_transformation_*__powertools.json"],
    "governance": ["cloudtrail_records/*.json", "eventbridge_cloudtrail_api_call_*.json"],
    "endpoint_tracker": ["sagemaker_*state_change*.json"],
    "fleet_tracker": ["cloudtrail_records/cloudtrail_record_sagemaker_*.json", "sagemaker_endpoint_state_change*.json"],
    "data_capture_profiler": ["s3_object_created_*.json"],
    "drift_detector": ["eventbridge_scheduled_event_*.json"],
    "latency_monitor": ["eventbridge_scheduled_event_*.json", "cloudwatch_alarm_*.json"],
    "alarm_router": ["cloudwatch_alarm_*.json", "sns_wrapped_*.json", "sagemaker_model_package_state_change*.json"],
}
ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "null",
    "0",
    "-1",
    "1e309",
    "NaN",
    "2026-13-45T99:99:99Z",
    "../../etc/passwd",
    "\U0001f642" * 20,
    "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x",
    "*",
    "Demo-LLM-Endpoint",
    "a" * 1000,
    "{}",
    "[]",
    "true",
]
FOLDERS = sorted(p.name for p in EVENTS.iterdir() if p.is_dir())
ROUTER = "alarm_router"


def _typed_error_names() -> set[str]:
    for module in pkgutil.walk_packages(llmops_sentinel.__path__, "llmops_sentinel."):
        importlib.import_module(module.name)
    names: set[str] = set()
    todo: list[type] = [SentinelError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


TYPED = _typed_error_names()


def _wrap_cloudtrail(record: dict[str, Any]) -> dict[str, Any]:
    """A CloudTrail record as EventBridge delivers it (``source`` is ``aws.<service>``)."""
    service = str(record.get("eventSource", "unknown.amazonaws.com")).split(".")[0]
    return {
        "version": "0",
        "id": "6f8a3c36-0000-4c2b-8e3c-000000000000",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": "123456789012",
        "time": record.get("eventTime", "2026-11-26T10:00:00Z"),
        "region": "us-east-1",
        "resources": [],
        "detail": record,
    }


def seeds(folder: str) -> list[Any]:
    found = [load_json(p) for p in sorted((EVENTS / folder).glob("*.json")) if p.name != "expected.json"]
    for pattern in FIXTURES.get(folder, []):
        for path in sorted(AWS_EVENTS.glob(pattern)):
            if "RESPONSE" in path.name:
                continue
            doc = load_json(path)
            found.append(doc)
            if path.parent.name == "cloudtrail_records" and isinstance(doc, dict):
                found.append(_wrap_cloudtrail(doc))
    assert found, f"no seed events for {folder}"
    return found


@cache
def function_for(folder: str) -> str:  # a template.yaml parse is ~1 s: once per folder, not per example
    for logical_id, code_dir in load_template(REPO / "template.yaml").code_dirs.items():
        if code_dir == (REPO / "functions" / folder).resolve():
            return logical_id
    raise AssertionError(f"functions/{folder} has no function in template.yaml")


def _paths(node: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if depth > 8:
        return
    if isinstance(node, dict):
        for key, value in list(node.items())[:40]:
            yield from _paths(value, (*prefix, key), depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node[:10]):
            yield from _paths(value, (*prefix, index), depth + 1)


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(ODD_STRINGS),
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3))


JUNK = st.recursive(SCALARS, _containers, max_leaves=6)


@st.composite
def mutated(draw: st.DrawFn, seeds_: list[Any]) -> Any:
    event = copy.deepcopy(draw(st.sampled_from(seeds_)))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(event))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["delete", "null", "swap", "huge", "nest", "odd", "b64", "junk"]))
        if not path:
            event = draw(
                st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(SCALARS, max_size=3), st.just({}))
            )
            continue
        parent = _get(event, path[:-1])
        key = path[-1]
        current = parent[key]
        if op == "delete":
            del parent[key]
        elif op == "null":
            parent[key] = None
        elif op == "swap":
            parent[key] = draw(SCALARS)
        elif op == "huge":
            parent[key] = draw(st.sampled_from(["A", "\u00e9", "\U0001f642", "{"])) * 200_000
        elif op == "nest":
            parent[key] = draw(st.sampled_from([[current], {"value": current}, [current, current], [], {}]))
        elif op == "odd":
            parent[key] = draw(st.sampled_from(ODD_STRINGS))
        elif op == "b64":
            inner = draw(st.one_of(st.binary(max_size=200), JUNK.map(lambda j: json.dumps(j).encode())))
            parent[key] = base64.b64encode(inner).decode()
        else:
            parent[key] = draw(JUNK)
    return event


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as running:
        yield running


PHASES = [Phase.explicit, Phase.generate]  # no shrinking: each step is an invocation (a failure prints its event)
CORPUS: Counter[str] = Counter()
UNHANDLED: Counter[str] = Counter()
ROUTER_CRASHES: Counter[str] = Counter()


def _check(folder: str, cloud: LocalCloud, event: Any) -> str | None:
    """None when the outcome is accepted, else what went wrong (one line)."""
    CORPUS[folder] += 1
    record = cloud.invoke(function_for(folder), event)
    if record.error_type is not None:
        if record.error_type in TYPED:
            return None
        return f"{record.error_type}: {(record.error_message or '')[:160]}"
    result = record.result
    if isinstance(result, dict) and result.get("status") == "rejected":
        error = result.get("error")  # the class name, or "<class>: <reason>" (the scan worker's BatchResult)
        if not (isinstance(error, str) and error.split(":")[0].endswith("Error")):
            return f"untyped rejection: {result!r:.160}"
    return None


def _fuzz(folder: str, cloud: LocalCloud, on_problem: Callable[[str], None]) -> None:
    """``EXAMPLES`` mutated events of the folder's seeds through its function; each problem to ``on_problem``."""
    pool = seeds(folder)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=PHASES,
        suppress_health_check=list(HealthCheck),
    )
    @given(event=mutated(pool))
    def run(event: Any) -> None:
        problem = _check(folder, cloud, event)
        if problem is not None:
            on_problem(problem)

    run()


@pytest.mark.parametrize("folder", [f for f in FOLDERS if f != ROUTER])
def test_handler_survives_mutated_events(folder: str, cloud: LocalCloud) -> None:
    def fail(problem: str) -> None:  # the first problem fails the example (hypothesis prints its event)
        UNHANDLED[folder] += 1
        raise AssertionError(problem)

    _fuzz(folder, cloud, fail)


def test_router_survives_mutated_events(cloud: LocalCloud) -> None:
    def record(problem: str) -> None:  # every crash is collected, to show them all at once
        kind, _, message = problem.partition(":")
        ROUTER_CRASHES[f"{kind}: {message[:60]}"] += 1

    _fuzz(ROUTER, cloud, record)
    print(f"router: {sum(ROUTER_CRASHES.values())} unhandled of {CORPUS[ROUTER]}")
    for problem, count in ROUTER_CRASHES.most_common():
        print(f"  {count:4d}  {problem}")
    assert not ROUTER_CRASHES


def test_corpus_report() -> None:
    """Runs last in this module: the corpus size and unhandled count per function (``-s`` shows it)."""
    for folder in FOLDERS:
        print(f"{folder:24} {CORPUS[folder]:5d} mutated events, {UNHANDLED[folder]} unhandled")
    print(
        f"{'total':24} {sum(CORPUS.values()):5d} mutated events, {sum(UNHANDLED.values())} unhandled "
        f"(router: {sum(ROUTER_CRASHES.values())})"
    )
    assert Path(AWS_EVENTS).is_dir()
