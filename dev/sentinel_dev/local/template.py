"""Read template.yaml and translate its SAM resources to plain CloudFormation."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops_sentinel.errors import TemplateError

ARTIFACT_BUCKET = "sentinel-local-artifacts"


@dataclass(frozen=True)
class SourceTemplate:
    """template.yaml as written, plus where each function's and layer's code lives on disk."""

    path: Path
    raw: dict[str, Any]
    code_dirs: dict[str, Path] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = self.raw.get("Parameters", {})
        return params


def find_template(start: Path | None = None) -> Path:
    """The nearest template.yaml at or above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "template.yaml"
        if candidate.is_file():
            return candidate
    raise TemplateError(f"no template.yaml at or above {here}")


def load_template(path: Path) -> SourceTemplate:
    """Parse template.yaml with the CloudFormation short-form tags (``!Ref``, ``!Sub`` ...)."""
    from samtranslator.yaml_helper import yaml_parse

    try:
        raw = yaml_parse(path.read_text())
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from exc
    except Exception as exc:  # yaml raises many types; all mean the same to a caller
        raise TemplateError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or "Resources" not in raw:
        raise TemplateError(f"{path} has no Resources section")
    code_dirs: dict[str, Path] = {}
    for logical_id, resource in raw["Resources"].items():
        props = resource.get("Properties", {}) or {}
        uri = props.get("CodeUri") or props.get("ContentUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            code_dirs[logical_id] = (path.parent / uri).resolve()
    return SourceTemplate(path=path, raw=raw, code_dirs=code_dirs)


class _NoManagedPolicies:
    """aws-sam-translator asks for a managed-policy name map; the template uses none by name."""

    def load(self) -> dict[str, str]:
        return {}


_TRANSLATED: dict[tuple[str, str], dict[str, Any]] = {}


def translate_cached(source: SourceTemplate, region: str) -> dict[str, Any]:
    """:func:`translate`, once per template content and region in this process (a fresh copy each call)."""
    key = (json.dumps(source.raw, sort_keys=True, default=str), region)
    if key not in _TRANSLATED:
        _TRANSLATED[key] = translate(source, region)
    return copy.deepcopy(_TRANSLATED[key])


def translate(source: SourceTemplate, region: str) -> dict[str, Any]:
    """SAM -> CloudFormation with aws-sam-translator, as CloudFormation's transform would do.

    Local code locations become placeholders in an artifact bucket (as ``sam package`` would
    upload them) and state machine definition files (``DefinitionS3Location`` of
    ``AWS::StepFunctions::StateMachine``, ``DefinitionUri`` of SAM's) are inlined, keeping
    ``DefinitionSubstitutions``.
    """
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(source.raw)
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {}) or {}
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            props["ContentUri"] = f"s3://{ARTIFACT_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::StepFunctions::StateMachine" and isinstance(props.get("DefinitionS3Location"), str):
            asl_path = source.root / props.pop("DefinitionS3Location")  # a local path `sam package` uploads
            try:
                props["Definition"] = json.loads(asl_path.read_text())
            except (OSError, ValueError) as exc:
                raise TemplateError(f"{logical_id}: cannot read {asl_path}: {exc}") from exc
        elif kind == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            asl_path = source.root / props.pop("DefinitionUri")
            try:
                props["Definition"] = json.loads(asl_path.read_text())
            except (OSError, ValueError) as exc:
                raise TemplateError(f"{logical_id}: cannot read {asl_path}: {exc}") from exc
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator reads the region from the session
    try:
        translated: dict[str, Any] = transform(template, {}, _NoManagedPolicies())
    except Exception as exc:
        raise TemplateError(f"SAM translation of {source.path} failed: {exc}") from exc
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    return translated
