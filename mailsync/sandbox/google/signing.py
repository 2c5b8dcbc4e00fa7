"""The key that signs id_tokens, and the certificates that publish it.

A fresh RSA key is made when the stand-in starts; id_tokens are checked
right after they are issued, so nothing needs the key to outlive the
process.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


class IdTokenSigner:
    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        self.kid = hashlib.sha1(public_der, usedforsecurity=False).hexdigest()
        self._certificate_pem = self._self_signed_certificate()

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self._key, algorithm="RS256", headers={"kid": self.kid}
        )

    def pem_certificates(self) -> dict[str, str]:
        """Google's ``oauth2/v1/certs`` body: PEM certificates by kid."""
        return {self.kid: self._certificate_pem}

    def jwks(self) -> dict[str, Any]:
        """The body of Google's ``oauth2/v3/certs``: a JSON Web Key Set."""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def _self_signed_certificate(self) -> str:
        name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "sandbox-google-oauth")]
        )
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(self._key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
