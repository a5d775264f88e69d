"""LLMOps Sentinel: drift, latency and governance monitoring for Amazon SageMaker endpoints.

Layout (see docs/ARCHITECTURE.md):
- ``domain``: pure statistics, detectors, policies and decisions (no boto3, no Powertools);
- ``models``: pydantic models of the events and settings at the boundaries;
- ``adapters``: one thin module per AWS service, each taking an optional boto3 client;
- ``services``: use cases that wire the domain to the adapters; the Lambda handlers call these;
- ``cli`` and ``local``: the ``sentinel`` command and the local cloud on moto (dev only).
"""

__version__ = "0.1.0"
