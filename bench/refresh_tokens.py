#!/usr/bin/env python3
"""Prints N fresh refresh tokens of one client, one per line: logs in once through the hosted
login page, then runs the authorization code flow (PKCE) N times on the SSO session.
Usage: refresh_tokens.py URL TENANT CLIENT_ID SECRET USERNAME PASSWORD N"""
import base64, hashlib, http.client, json, re, secrets, sys, urllib.parse

url, tenant, client_id, secret, username, password, n = sys.argv[1:8]
host = urllib.parse.urlparse(url).netloc
redirect = "https://bench.example.com/cb"
cookies = {}

def call(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(host)
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode(body)
    conn.request(method, path, body, headers)
    response = conn.getresponse()
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            k, v = value.split(";", 1)[0].split("=", 1)
            cookies[k] = v
    return response, response.read().decode()

def authorize():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
                                    "scope": "openid offline_access", "code_challenge": challenge, "code_challenge_method": "S256"})
    response, _ = call("GET", f"/t/{tenant}/authorize?{query}")
    return response.getheader("Location"), verifier

location, verifier = authorize()
if location.startswith(f"/t/{tenant}/login"):
    _, html = call("GET", location)
    fields = dict(re.findall(r'name="(flow|csrf_token)" value="([^"]+)"', html))
    response, _ = call("POST", f"/t/{tenant}/login", {**fields, "username": username, "password": password})
    location = response.getheader("Location")
basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
for i in range(int(n)):
    if i > 0:
        location, verifier = authorize()
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
    _, body = call("POST", f"/t/{tenant}/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                                                 "code_verifier": verifier}, {"Authorization": f"Basic {basic}"})
    print(json.loads(body)["refresh_token"])
