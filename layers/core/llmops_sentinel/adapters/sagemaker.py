"""SageMaker: the model registry reads the retrain workflow needs."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from llmops_sentinel.adapters.clients import LazyClient
from llmops_sentinel.errors import TrainingJobNotFoundError


class ModelRegistry:
    def __init__(self, sagemaker: Any | None = None) -> None:
        self._sm = sagemaker

    sm = LazyClient("sagemaker")

    def final_metrics(self, training_job_name: str) -> list[tuple[str, float]]:
        """(name, value) of the metrics a training job reported at its end."""
        try:
            described = self.sm.describe_training_job(TrainingJobName=training_job_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"ValidationException", "ResourceNotFound"}:
                raise TrainingJobNotFoundError(f"training job {training_job_name!r}: {exc}") from exc
            raise
        return [(m["MetricName"], float(m["Value"])) for m in described.get("FinalMetricDataList", [])]

    def approved_objective(self, group: str, objective_metric: str) -> float | None:
        """The objective value recorded on the newest Approved package of ``group`` (None if none)."""
        listed = self.sm.list_model_packages(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=10,
        ).get("ModelPackageSummaryList", [])
        for summary in listed:
            described = self.sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            props = described.get("CustomerMetadataProperties") or {}
            if props.get("objective_metric") == objective_metric and "objective_value" in props:
                try:
                    return float(props["objective_value"])
                except ValueError:
                    continue
        return None
