"""Examples shown under each command's ``--help`` (argparse epilogs), keyed by the command path.

Every path under ``examples/`` exists in the repository; tests/integration/test_cli_examples.py runs the
README's "Try it" commands, which use the same files. Commands whose module sets its own epilog keep it.
"""

from __future__ import annotations

DESCRIPTION = """\
LLMOps Sentinel: drift, latency and governance monitoring with guarded remediation for models on
Amazon SageMaker endpoints. This is the operator and developer CLI: it runs the functions on a local
cloud (moto, no AWS account), checks files offline, and reads a deployed stack."""

MAIN = """\
examples:
  sentinel demo                                   # the whole loop on a local cloud, ~10 s
  sentinel report --demo -o build/report.html     # the demo, then one self-contained HTML report
  sentinel latency detect -i examples/latency/series.csv -o scores.csv
  sentinel baseline build -i examples/drift/week.jsonl -o baseline.json
  sentinel drift check -b baseline.json --current examples/drift/today.jsonl
  sentinel govern evaluate -i tests/unit/governance/fixtures/config_role_sagemaker_star.json
  sentinel invoke LatencyMonitorFunction -e events/latency_monitor/confirm_alarm.json --seed-history
  sentinel history --endpoint my-llm --stack sentinel

Exit codes: 0 it ran (whatever it found), 2 bad input (one line on stderr), 1 a failure.
`sentinel COMMAND --help` shows each command's options and examples."""

EXAMPLES: dict[str, str] = {
    "baseline": "examples:\n  sentinel baseline build --input examples/drift/week.jsonl --output baseline.json",
    "drift": "examples:\n  sentinel drift check --baseline baseline.json --current examples/drift/today.jsonl",
    "latency": "examples:\n  sentinel latency detect --input examples/latency/series.csv --output scores.csv",
    "govern": "examples:\n  sentinel govern evaluate -i tests/unit/governance/fixtures/config_role_sagemaker_star.json",
    "demo": """\
examples:
  sentinel demo                          # narrated timeline: latency, drift and governance scenes
  sentinel demo --report build/report.html
  sentinel demo --json > demo.json       # the timeline and each scene's facts as JSON""",
    "baseline build": """\
examples:
  sentinel baseline build --input examples/drift/week.jsonl --output baseline.json
  sentinel baseline build -i capture-*.jsonl -o baseline.json --endpoint my-llm --json

Inputs: SageMaker data-capture JSONL (one captureData record a line, as examples/drift/week.jsonl),
chat/TGI request-response logs, JSON or CSV, profiles written by this tool, or a Model Monitor
statistics.json.""",
    "drift check": """\
examples:
  sentinel drift check --baseline baseline.json --current examples/drift/today.jsonl
  sentinel drift check -b baseline.json --current a.jsonl b.jsonl --json   # two files, one window

Exit 0 whether or not it drifted (read "drifted" in --json); 2 for unreadable input.""",
    "latency detect": """\
examples:
  sentinel latency detect --input examples/latency/series.csv --output scores.csv --json
  sentinel latency detect -i examples/latency/series.csv --plot latency.png

Input CSV: a header `timestamp,value`, then one row per metric period; timestamp ISO 8601 (UTC if no
offset) or epoch seconds, value the latency (any unit, e.g. ModelLatency p99 in microseconds):
  timestamp,value
  2026-11-23T00:00:00Z,812345.6""",
    "govern evaluate": """\
examples:
  sentinel govern evaluate --input tests/unit/governance/fixtures/config_role_sagemaker_star.json
  sentinel govern evaluate -i configs.json cloudtrail.json --policies config/policies.yaml --json

Inputs: AWS Config configuration items (one, a list, {"configurationItems": [...]} or a Config rule
event), CloudTrail records ({"Records": [...]}) or EventBridge "AWS API Call via CloudTrail" events.""",
    "history": """\
examples:
  sentinel history --endpoint my-llm --stack sentinel
  sentinel history --endpoint my-llm --table sentinel-SentinelTable-ABC123 --limit 10 --json""",
}
