"""``sentinel govern evaluate --input FILE... [--policies policies.yaml] [--json]``.

FILE: an AWS Config configuration item (or a list of them, or ``{"configurationItems": [...]}``, or a
Config rule event), a CloudTrail record (or ``{"Records": [...]}``), or an EventBridge ``AWS API Call
via CloudTrail`` event. All files are evaluated together, so a role's attached customer-managed
policies are resolved from ``AWS::IAM::Policy`` items in any of them. Default policies: the packaged
defaults. Exit 0 whatever is found; bad input or policies -> exit 2 with one line on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from llmops_sentinel.domain.governance import (
    Finding,
    evaluate,
    load_default_policies,
    load_policies,
    normalise_document,
    resolve_attached_policies,
)
from llmops_sentinel.domain.governance.resources import Resource
from llmops_sentinel.errors import BadInputError
from sentinel_dev.cli.output import emit_json


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "govern",
        help="governance policies over SageMaker, IAM and KMS resources",
        description="Evaluate governance policies (IAM, KMS, SageMaker) over Config items and CloudTrail records.",
    )
    commands = parser.add_subparsers(dest="govern_command", required=True, parser_class=type(parser))
    ev = commands.add_parser("evaluate", help="evaluate Config items / CloudTrail records against policies")
    ev.add_argument("--input", "-i", nargs="+", required=True, type=Path, metavar="FILE", help="JSON inputs")
    ev.add_argument("--policies", "-p", type=Path, default=None, help="policy YAML (default: packaged)")
    ev.add_argument("--json", action="store_true", help="print findings as JSON")
    ev.set_defaults(func=run)


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None


def load_resources(paths: list[Path]) -> list[Resource]:
    resources: list[Resource] = []
    for path in paths:
        try:
            resources.extend(normalise_document(_read(path)))
        except BadInputError as exc:
            message = str(exc)
            raise BadInputError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    return resolve_attached_policies(resources)


_MARK = {True: "ok", False: "FAIL", None: "n/a"}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def render(findings: list[Finding], resources: int) -> str:
    """Findings as an aligned table; resource ids are printed whole (an ARN cut short names nothing)."""
    failed = sum(1 for f in findings if f.compliant is False)
    lines = [f"{plural(len(findings), 'finding')} on {plural(resources, 'resource')}: {failed} non-compliant"]
    if not findings:
        return lines[0]
    width_p = max(len(f.policy) for f in findings)
    width_r = max(len(f.resource_id) for f in findings)
    lines.append(f"{'result':<6}  {'severity':<13}  {'policy':<{width_p}}  {'resource':<{width_r}}  reason")
    for f in findings:
        remediation = ""
        if f.remediation is not None:
            remediation = f"  [{f.remediation.action}: {f.remediation.status}]"
        lines.append(
            f"{_MARK[f.compliant]:<6}  {f.severity.value:<13}  {f.policy:<{width_p}}  "
            f"{f.resource_id:<{width_r}}  {f.reason}{remediation}"
        )
    return "\n".join(lines)


def run(args: Any) -> int:
    policies = load_policies(args.policies) if args.policies is not None else load_default_policies()
    resources = load_resources(list(args.input))
    findings = evaluate(resources, policies)
    if args.json:
        emit_json(
            {
                "policies": policies.source,
                "resources": len(resources),
                "findings": [f.summary() for f in findings],
            }
        )
    else:
        sys.stdout.write(render(findings, len(resources)) + "\n")
    return 0
