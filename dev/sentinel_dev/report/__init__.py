"""``sentinel report``: one self-contained HTML page of what the stack saw, decided and did.

- ``model``: the typed content of a report (pydantic), independent of where it came from;
- ``gather``: reads it from a deployment (S3 drift reports and profiles, the Sentinel table,
  CloudWatch, SageMaker, Security Hub) through the project's adapters, with injectable clients;
- ``render``: pure ``ReportModel -> str`` (inline SVG, CSS and a few lines of JS; no network);
- ``browser``: opens a written report in headless Chromium and checks every chart rendered.
"""
