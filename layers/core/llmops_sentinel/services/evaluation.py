"""The retrain workflow's decision step: register the candidate or not (functions/model_evaluator)."""

from __future__ import annotations

from llmops_sentinel.adapters.sagemaker import ModelRegistry
from llmops_sentinel.domain.remediation.evaluation import Evaluation, MetricValue, compare
from llmops_sentinel.models.workflow_steps import EvaluationRequest


def evaluate_candidate(request: EvaluationRequest, registry: ModelRegistry | None = None) -> Evaluation:
    """The training job's final metrics against the model package group's approved objective."""
    registry = registry or ModelRegistry()
    candidate = [MetricValue(metric_name=n, value=v) for n, v in registry.final_metrics(request.training_job_name)]
    current = registry.approved_objective(request.model_package_group, request.objective_metric)
    return compare(candidate, current, request.objective_metric, request.objective, request.min_improvement)
