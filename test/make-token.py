#!/usr/bin/env python3
"""make-token.py SECRET SUB IAT EXP [ALG] - prints an HS256 JWT (or an
unsigned one with ALG=none) for the repo's identity capture. Test data only."""
import base64
import hashlib
import hmac
import json
import sys


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


secret, sub, iat, exp = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
alg = sys.argv[5] if len(sys.argv) > 5 else "HS256"
header = {"alg": alg, "typ": "JWT", "kid": "k1"}
claims = {"sub": sub, "iss": "https://auth.example.com", "aud": "orders-api",
          "scope": "read:orders write:orders", "roles": ["support", "eu agents"],
          "iat": iat, "exp": exp, "jti": "t-" + sub}
signing = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + \
    b64(json.dumps(claims, separators=(",", ":")).encode())
sig = "" if alg == "none" else b64(hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest())
print(signing + "." + sig)
