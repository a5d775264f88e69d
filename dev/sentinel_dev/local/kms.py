"""KMS keys for moto without an RSA key per symmetric key (moto 5.2).

moto's ``Key`` generates a private key for every key it creates, whatever its spec: a symmetric
(``SYMMETRIC_DEFAULT``) key, the default and the only kind this project creates, gets an unused
2048-bit RSA key, ~30-80 ms of CPU each (100 keys in the 1,000-resource scan test were 8 s). Here a
symmetric key's private key is made on first use instead, with moto's own generator, so nothing a
test or the code under test can observe changes (moto's Sign/Verify/GetPublicKey on such a key still
find one). Asymmetric specs are generated at once, as moto does.
"""

from __future__ import annotations

from typing import Any

from moto.kms import models as kms_models

_INSTALLED = "_sentinel_lazy_private_key"
SYMMETRIC = "SYMMETRIC_DEFAULT"


class _LazyPrivateKey:
    """Stands in for moto's private key object; generates it (moto's way) the first time it is used."""

    def __init__(self, generate: Any, key_spec: str) -> None:
        self._generate = generate
        self._key_spec = key_spec
        self._key: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._key is None:
            self._key = self._generate(self._key_spec)
        return getattr(self._key, name)


def install() -> None:
    if getattr(kms_models, _INSTALLED, False):
        return
    generate = getattr(kms_models, "generate_private_key")  # noqa: B009 (moto does not export it)

    def private_key(key_spec: str) -> Any:
        return _LazyPrivateKey(generate, key_spec) if key_spec == SYMMETRIC else generate(key_spec)

    setattr(kms_models, "generate_private_key", private_key)  # noqa: B010
    setattr(kms_models, _INSTALLED, True)
