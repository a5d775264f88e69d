"""The local cloud's KMS keys behave as moto's: a symmetric key's (unused) RSA key is only made later."""

from __future__ import annotations

import copy
import pickle

from sentinel_dev.local.cloud import LocalCloud


def test_symmetric_and_asymmetric_keys_work_as_in_moto() -> None:
    with LocalCloud() as cloud:
        kms = cloud.client("kms")
        key = kms.create_key(Description="symmetric")["KeyMetadata"]
        assert key["KeySpec"] == "SYMMETRIC_DEFAULT"
        blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
        kms.enable_key_rotation(KeyId=key["KeyId"])
        assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True

        signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"]
        signed = kms.sign(KeyId=signing, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
        verified = kms.verify(KeyId=signing, Message=b"m", Signature=signed, SigningAlgorithm="RSASSA_PSS_SHA_256")
        assert verified["SignatureValid"] is True

        # moto's snapshot of a cloud pickles its backends: a symmetric key copies and still encrypts
        stored = cloud.backend("kms").keys[key["KeyId"]]
        for twin in (copy.deepcopy(stored), pickle.loads(pickle.dumps(stored))):
            assert twin.key_spec == "SYMMETRIC_DEFAULT" and twin.key_material == stored.key_material
            assert twin.private_key.public_key() is not None  # made on first use, moto's way
