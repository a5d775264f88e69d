"""SageMaker: the model registry reads the retrain workflow needs."""

from __future__ import annotations

from typing import Any

from llmops_sentinel.adapters.clients import client


class ModelRegistry:
    def __init__(self, sagemaker: Any | None = None) -> None:
        self._sm = sagemaker

    @property
    def sm(self) -> Any:
        return self._sm or client("sagemaker")

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
