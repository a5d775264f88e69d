"""Remediation decisions: which action a signal leads to, under which guardrails."""
