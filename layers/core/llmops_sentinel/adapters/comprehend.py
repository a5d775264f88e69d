"""Amazon Comprehend: DetectToxicContent and DetectPiiEntities for the sampled quality signals.

The limits the calls respect are planned in ``domain/quality.py`` (with their sources). This adapter
only translates: a throttle becomes :class:`ThrottledError`, any other failure (an API error, a timeout,
a connection error) :class:`QualityCallError`, so the caller's error budget can count it. moto does not
implement Comprehend's DetectToxicContent (its Comprehend backend has no such operation), so the unit
tests drive this adapter with a botocore ``Stubber``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from llmops_sentinel.adapters.clients import LazyClient, error_code, raise_if_throttled
from llmops_sentinel.domain.quality import PiiEntity
from llmops_sentinel.errors import QualityCallError


class Comprehend:
    comprehend = LazyClient("comprehend")

    def __init__(self, comprehend: Any | None = None) -> None:
        self._comprehend = comprehend

    def toxicity(self, segments: Sequence[str], language: str) -> list[float]:
        """The Toxicity score (0..1) of each segment, in order."""
        try:
            response = self.comprehend.detect_toxic_content(
                TextSegments=[{"Text": text} for text in segments], LanguageCode=language
            )
        except ClientError as exc:
            raise_if_throttled(exc, "comprehend:DetectToxicContent")
            raise QualityCallError(f"DetectToxicContent: {error_code(exc) or exc}") from exc
        except BotoCoreError as exc:
            raise QualityCallError(f"DetectToxicContent: {type(exc).__name__}") from exc
        results = response.get("ResultList", [])
        if len(results) != len(segments):
            raise QualityCallError(f"DetectToxicContent: {len(results)} results for {len(segments)} segments")
        return [float(r.get("Toxicity", 0.0)) for r in results]

    def pii(self, text: str, language: str) -> list[PiiEntity]:
        """The PII entities found in ``text`` (type and confidence)."""
        try:
            response = self.comprehend.detect_pii_entities(Text=text, LanguageCode=language)
        except ClientError as exc:
            raise_if_throttled(exc, "comprehend:DetectPiiEntities")
            raise QualityCallError(f"DetectPiiEntities: {error_code(exc) or exc}") from exc
        except BotoCoreError as exc:
            raise QualityCallError(f"DetectPiiEntities: {type(exc).__name__}") from exc
        return [PiiEntity(str(e["Type"]), float(e.get("Score", 0.0))) for e in response.get("Entities", [])]
