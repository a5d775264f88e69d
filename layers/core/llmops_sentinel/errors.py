"""Typed errors. Names end in ``Error`` and are the ``ErrorEquals`` names in the state machines.

A Lambda error surfaces in Step Functions with the exception's class name as its error type, so a
``Catch``/``Retry`` on ``"ThrottledError"`` matches ``raise ThrottledError(...)`` here.
"""

from __future__ import annotations


class SentinelError(Exception):
    """Base of every error this project raises on purpose."""


class BadInputError(SentinelError):
    """The caller gave input we cannot use (a file, a record, an event). CLI exit code 2."""


class InvalidEventError(BadInputError):
    """An event does not have the shape its trigger promises."""


class ConfigError(BadInputError):
    """A configuration or policy file is invalid."""


class TemplateError(SentinelError):
    """template.yaml cannot be read or does not define what is asked for."""


class ThrottledError(SentinelError):
    """An AWS API throttled us; state machines retry this with backoff."""


class EndpointNotInServiceError(SentinelError):
    """An endpoint did not reach ``InService`` after a change."""


class RemediationFailedError(SentinelError):
    """A remediation workflow ended in failure (the state machines' terminal ``Fail`` error)."""


class VariantNotFoundError(BadInputError):
    """The endpoint has no production variant of the requested name."""


class GovernanceScanError(SentinelError):
    """The periodic governance scan failed (the scan state machine's terminal ``Fail`` error)."""


class TrainingJobNotFoundError(BadInputError):
    """The training job a workflow step names does not exist."""


class DeploymentRolledBackError(SentinelError):
    """SageMaker's deployment guardrails rolled a deployment back (the deploy state machine's ``Fail`` error)."""


class CustomResourceReplyError(SentinelError):
    """The reply to a CloudFormation custom resource request could not be delivered (Lambda retries)."""


class QualityCallError(SentinelError):
    """A Comprehend quality call failed (not throttled). Counted against the batch's quality error budget;
    never raised out of a batch (the records keep None quality scores)."""


class UntrustedSourceError(InvalidEventError):
    """An event claims a source this stack does not accept (e.g. an SNS notification from another topic)."""
