#!/usr/bin/env python3
"""Writes N user documents as NDJSON to stdout, each with a pre-hashed password (bcrypt, as an
Auth0 export carries it), the way a migration of a customer base looks."""
import json
import sys

count = int(sys.argv[1])
hashed = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
out = sys.stdout
for i in range(count):
    out.write(json.dumps({
        "username": f"user{i:07d}",
        "email": f"user{i:07d}@example.com",
        "email_verified": True,
        "given_name": "Given",
        "family_name": f"Family{i}",
        "locale": "en-US",
        "password_hash": hashed,
    }, separators=(",", ":")))
    out.write("\n")
