#!/usr/bin/env python3
"""Writes the benchmark relationship graph of crates/portcullis-authz/benches/check.rs (the
same xorshift, the same 979,994 tuples) to a running Portcullis through the admin API, 1000
tuples per transaction, and prints the last consistency token.

usage: authz_graph.py URL ADMIN_TOKEN TENANT
"""
import http.client
import json
import sys
import urllib.parse

MASK = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        self.state = seed

    def below(self, n):
        s = self.state
        s ^= (s << 13) & MASK
        s ^= s >> 7
        s ^= (s << 17) & MASK
        self.state = s
        return s % n


def tuples():
    users, groups, folders, docs = 50_000, 10_000, 10_000, 400_000
    rng = Rng(0x9E3779B97F4A7C15)
    for u in range(users):
        for _ in range(2):
            yield f"group:g{rng.below(groups)}#member@user:u{u}"
    for g in range(1, groups):
        yield f"group:g{g // 10}#member@group:g{g}#member"
    for f in range(folders):
        if f > 0:
            yield f"folder:f{f}#parent@folder:f{f // 10}"
        yield f"folder:f{f}#viewer@group:g{rng.below(groups)}#member"
    for d in range(docs):
        yield f"doc:d{d}#parent@folder:f{rng.below(folders)}"
        yield f"doc:d{d}#owner@user:u{rng.below(users)}"
    for _ in range(40_000):
        yield f"doc:d{rng.below(docs)}#editor@user:u{rng.below(users)}"
    for d in range(0, docs, 40):
        yield f"doc:d{d}#editor@user:power"


def main():
    url, token, tenant = sys.argv[1:4]
    parsed = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    batch, written, last = [], 0, None

    def flush():
        nonlocal batch, written, last
        # Random graphs repeat a few tuples (a user drawn into the same group twice).
        body = json.dumps({"writes": batch, "on_duplicate": "ignore"})
        conn.request("POST", f"/admin/v1/tenants/{tenant}/authz/tuples", body, headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            sys.exit(f"write failed: {response.status} {answer}")
        written += answer["written"]
        last = answer["consistency_token"]
        batch = []

    seen = set()
    for t in tuples():
        if t in seen:
            continue
        seen.add(t)
        batch.append(t)
        if len(batch) == 1000:
            flush()
    if batch:
        flush()
    print(json.dumps({"written": written, "consistency_token": last}))


if __name__ == "__main__":
    main()
