"""Governance scan of N resources in the local cloud: the Distributed Map state machine against a
naive baseline (one process looping over every resource with the same code), measured in one run.

The Map run is what template.yaml deploys: ListResources (paginated listing -> batches in S3) ->
Distributed Map (ItemReader from S3, one worker Lambda per batch, child executions) -> Summarise.
Locally the Lambdas run one at a time in-process (moto + our runtime), so the Map's gain here is
not parallelism: on AWS the batches run MaxConcurrency-wide and each stays far from Lambda's
15-minute limit, which the single loop hits first as the fleet grows. Both runs do the same
work: fetch, evaluate, Security Hub import, the violations on the bus in ``Governance Findings``
events of up to 50 (each event one router invocation), dry-run remediation plans.

    .venv/bin/python bench/governance_scan.py [--resources 1000]
"""

from __future__ import annotations

import argparse
import json
import time

from llmops_sentinel.adapters.events import SentinelBus
from llmops_sentinel.adapters.governance_scan import GovernanceScanner
from llmops_sentinel.adapters.remediation_actions import RemediationExecutor
from llmops_sentinel.adapters.securityhub import SecurityHubImporter
from llmops_sentinel.domain.governance import load_default_policies, normalise_scan_bundle
from llmops_sentinel.services.governance import GovernanceDeps, GovernanceSettings, govern
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.scenes.governance import KEY_ALIAS, create_fleet


def naive_loop(cloud: LocalCloud) -> tuple[float, int, int]:
    """Everything in one loop, as a single scheduled Lambda would do it."""
    settings = GovernanceSettings(
        policies=load_default_policies(),
        bus_name=cloud.stack.ref("SentinelBus"),
        topic_arn=cloud.stack.ref("NotificationTopic"),
        account_id=cloud.account_id,
        region=cloud.region,
    )
    deps = GovernanceDeps(
        settings,
        scanner=GovernanceScanner(
            cloud.account_id,
            cloud.region,
            sagemaker=cloud.client("sagemaker"),
            iam=cloud.client("iam"),
            kms=cloud.client("kms"),
        ),
        hub=SecurityHubImporter(cloud.client("securityhub")),
        bus=SentinelBus(settings.bus_name, cloud.client("events")),
        executor=RemediationExecutor(settings.topic_arn, sns=cloud.client("sns")),
    )
    assert deps.scanner is not None
    started = time.perf_counter()
    items = deps.scanner.list_items()
    bundle, _ = deps.scanner.bundle(items)
    result = govern(normalise_scan_bundle(bundle), deps)
    return time.perf_counter() - started, len(items), result.findings


def distributed_map(cloud: LocalCloud, name: str) -> tuple[float, dict[str, object], dict[str, float]]:
    sfn = cloud.client("stepfunctions")
    before = len(cloud.runtime.invocations)
    started = time.perf_counter()
    arn = sfn.start_execution(stateMachineArn=cloud.stack.ref("GovernanceScanStateMachine"), name=name)["executionArn"]
    execution = cloud.wait_for_execution(arn, timeout_s=1800)
    seconds = time.perf_counter() - started
    if execution["status"] != "SUCCEEDED":
        raise SystemExit(f"scan {execution['status']}: {execution.get('cause')}")
    phases: dict[str, float] = {}
    for record in cloud.runtime.invocations[before:]:
        phases[record.function] = phases.get(record.function, 0.0) + record.duration_ms / 1000
    return seconds, json.loads(execution["output"]), phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    args = parser.parse_args()
    with LocalCloud() as cloud:
        kms = cloud.client("kms")
        kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        t = time.perf_counter()
        counts = create_fleet(cloud, args.resources)
        print(f"fleet of {args.resources} created in {time.perf_counter() - t:.1f} s: {counts}")
        map_s, summary, phases = distributed_map(cloud, "bench-scan")
        loop_s, loop_items, loop_findings = naive_loop(cloud)
    print(
        f"Distributed Map scan: {map_s:6.1f} s  {summary['resources']} resources, {summary['batches']} batches, "
        f"{summary['findings']} findings ({summary['non_compliant']} non-compliant)"
    )
    for function, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"    {function:32s} {seconds:6.1f} s in handlers")
    print(f"naive one-Lambda loop: {loop_s:6.1f} s  {loop_items} resources, {loop_findings} findings")
    print(f"ratio map/loop: {map_s / loop_s:.2f} (local: Lambdas run serially; on AWS the Map runs 20 batches at once)")


if __name__ == "__main__":
    main()
