"""Tag names shared by the fleet policy and the workflows, in a module with no models: importing a constant
must not build the fleet policy's pydantic models at cold start (the router needs only the name)."""

from __future__ import annotations

STACK_TAG = "sentinel:stack"
"""The tag the stack puts on every endpoint it watches (value: the stack name); IAM is conditioned on it."""
