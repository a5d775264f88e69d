"""What each tracing choice adds to a handler's cold start, on the built layer (docs/DEPLOY.md "Tracing").

Compares a handler-like import (boto3, Powertools Logger and Metrics, one client) with nothing more
(Lambda's Active tracing alone), with the Powertools Tracer (the X-Ray SDK, patching botocore), and
with an OpenTelemetry SDK + OTLP exporter + botocore instrumentation (a lower bound for ADOT, whose
layer also runs a collector). Fresh python3.12 per sample with only the layer, the SDK and the
tracing folder on sys.path; the three cases are sampled round-robin; median of N.

The tracing packages are not project dependencies; put them in side folders first:

    python3.12 -m pip install --no-deps --target /tmp/trace/xray aws-xray-sdk==2.15.0 'wrapt<2'
    python3.12 -m pip install --target /tmp/trace/otel opentelemetry-sdk \
        opentelemetry-exporter-otlp-proto-http opentelemetry-instrumentation-botocore
    rm -rf /tmp/trace/otel/urllib3* /tmp/trace/otel/typing_extensions*   # the layer's and SDK's win
    python3.12 -m compileall -q /tmp/trace
    .venv/bin/python bench/tracing_cold_start.py --xray /tmp/trace/xray --otel /tmp/trace/otel
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
from pathlib import Path

BASE = "import boto3; from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics(namespace='x'); " + (
    "boto3.client('s3')"
)
TRACER = "; from aws_lambda_powertools import Tracer; Tracer(service='x'); boto3.client('sns')"
OTEL = (
    "; from opentelemetry import trace; from opentelemetry.sdk.trace import TracerProvider; "
    "from opentelemetry.sdk.trace.export import BatchSpanProcessor; "
    "from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter; "
    "from opentelemetry.instrumentation.botocore import BotocoreInstrumentor; p = TracerProvider(); "
    "p.add_span_processor(BatchSpanProcessor(OTLPSpanExporter())); trace.set_tracer_provider(p); "
    "BotocoreInstrumentor().instrument(); boto3.client('sns')"
)


def sample(python: str, paths: list[Path], code: str) -> float:
    path = [str(p.resolve()) for p in paths]
    program = f"import sys; sys.path[:0] = {path!r}; import time; t = time.perf_counter(); {code}; "
    program += "print(time.perf_counter() - t)"
    env = {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "false", "AWS_XRAY_SDK_ENABLED": "true"}
    env["PATH"] = os.environ["PATH"]
    env["PYENV_VERSION"] = os.environ.get("PYENV_VERSION", "3.11.7:3.12.1")
    out = subprocess.run([python, "-S", "-E", "-s", "-c", program], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default="python3.12")
    parser.add_argument("--layer", type=Path, default=Path(".aws-sam-x86/build/CoreLayer/python"))
    parser.add_argument("--sdk", type=Path, default=Path(".aws-sam-x86/runtime-sdk"))
    parser.add_argument("--xray", type=Path, default=Path("/tmp/trace/xray"))
    parser.add_argument("--otel", type=Path, default=Path("/tmp/trace/otel"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    missing = [str(p) for p in (args.layer, args.sdk, args.xray, args.otel) if not p.is_dir()]
    if missing:
        print(f"skipped: {', '.join(missing)} missing (make layer-report, then see this script's docstring)")
        return
    base = [args.layer, args.sdk]
    cases = {
        "Active tracing alone (no SDK)": (base, BASE),
        "Powertools Tracer (X-Ray SDK)": ([*base, args.xray], BASE + TRACER),
        "OpenTelemetry SDK + OTLP + botocore": ([*base, args.otel], BASE + OTEL),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (paths, code) in cases.items():
            samples[name].append(sample(args.python, paths, code))
    first = statistics.median(next(iter(samples.values())))
    for name, xs in samples.items():
        print(f"{name:38} {statistics.median(xs) * 1000:7.0f} ms  {statistics.median(xs) / first:5.2f}x")


if __name__ == "__main__":
    main()
