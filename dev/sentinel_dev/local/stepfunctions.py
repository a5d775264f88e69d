"""Two things about moto's ASL interpreter: SDK service names, and parse speed.

Service names moto does not map from Step Functions to boto3:

Step Functions' AWS SDK integrations name services by their SDK id without dashes
(``arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget``); boto3 calls the same
service ``application-autoscaling``. moto maps only ``sfn``/``states``. We add the names our state
machines use, so the definitions stay exactly what AWS runs.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

SFN_TO_BOTO = {"applicationautoscaling": "application-autoscaling"}


def install() -> None:
    StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES.update(SFN_TO_BOTO)  # type: ignore[attr-defined]
    install_parse_cache()


_ORIGINAL_PARSE = AmazonStateLanguageParser.parse
_TREES: dict[str, Any] = {}


def _parse_with_cached_tree(definition: str) -> tuple[Any, Any]:
    """moto parses a definition with ANTLR on every create and every execution (~0.1-0.2 s each).
    The parse tree of a definition never changes, so it is kept per definition text; the evaluation
    components are still built fresh from it each time, as moto does (they carry execution state)."""
    tree = _TREES.get(definition)
    if tree is None:
        program, tree = _ORIGINAL_PARSE(definition)  # raises for invalid definitions, never cached
        _TREES[definition] = tree
        return program, tree
    return Preprocessor().visit(tree), tree


def install_parse_cache() -> None:
    AmazonStateLanguageParser.parse = staticmethod(_parse_with_cached_tree)  # type: ignore[method-assign,assignment]
