"""Prepares a benchmark run against the app on loopback: signs the admin persona in through the
development provider (as a browser would: form post, provider redirect, callback), creates an API
client and gets its client-credentials token, and writes the dashboard's bytes for the baselines.

Usage: prepare.py BASE_URL SITE_ROOT  -> prints shell assignments (COOKIE=..., TOKEN=..., ...)
"""

import http.client
import json
import shlex
import sys
import urllib.parse

BASE = sys.argv[1].rstrip("/")
SITE_ROOT = sys.argv[2]
HOST = urllib.parse.urlparse(BASE).netloc
JAR = {}


def request(method, url, body=None, headers=None):
    """One request, no redirects followed, cookies kept in JAR (names and values only)."""
    parts = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = dict(headers or {})
    if JAR and parts.netloc == HOST:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in JAR.items())
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            if "Max-Age=0" in value or val == "":
                JAR.pop(key, None)
            else:
                JAR[key] = val
    return response.status, dict((k.lower(), v) for k, v in response.getheaders()), data


def absolute(location):
    return location if location.startswith("http") else BASE + location


def sign_in(persona):
    form = urllib.parse.urlencode({"next": "/dashboard", "login_hint": persona})
    status, headers, _ = request(
        "POST",
        f"{BASE}/_app/login",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": BASE,
            "Sec-Fetch-Site": "same-origin",
            "Accept": "text/html",
        },
    )
    assert status == 303, f"login answered {status}"
    status, headers, _ = request("GET", absolute(headers["location"]))
    assert status == 302, f"the provider answered {status}"
    status, headers, _ = request("GET", absolute(headers["location"]), headers={"Accept": "text/html"})
    assert status == 303 and headers["location"] == "/dashboard", (status, headers)
    session = {k: v for k, v in JAR.items() if k.startswith("__Host-skit_session")}
    assert session, "no session cookie after the callback"
    return "; ".join(f"{k}={v}" for k, v in session.items())


def post_json(url, payload, token=None, form=False):
    headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = urllib.parse.urlencode(payload) if form else json.dumps(payload)
    status, _, data = request("POST", url, body, headers)
    assert status in (200, 201), (url, status, data[:200])
    return json.loads(data)


def api_token():
    token_url = f"{BASE}/dev-idp/oauth/token"
    management = post_json(
        token_url,
        {
            "grant_type": "client_credentials",
            "client_id": "skc_dev_leptos_scalekit",
            "client_secret": "dev-only-secret-never-used-with-scalekit",
        },
        form=True,
    )["access_token"]
    created = post_json(
        f"{BASE}/dev-idp/api/v1/organizations/org_100000000000000001/clients",
        {"name": "bench", "scopes": ["read:deployments"], "audience": [BASE], "expiry": 3600},
        token=management,
    )
    return post_json(
        token_url,
        {
            "grant_type": "client_credentials",
            "client_id": created["client"]["client_id"],
            "client_secret": created["plain_secret"],
        },
        form=True,
    )["access_token"]


def main():
    cookie = sign_in("admin")
    JAR.clear()
    status, _, dashboard = request("GET", f"{BASE}/dashboard", headers={"Cookie": cookie, "Accept": "text/html"})
    assert status == 200, f"dashboard answered {status}"
    # The baselines' page: the dashboard's own bytes, served from a file (the static row) and from
    # memory (bench_baselines.rs reads bench-page.html once).
    for name in ("bench-static.html", "bench-page.html"):
        with open(f"{SITE_ROOT}/{name}", "wb") as f:
            f.write(dashboard)
    token = api_token()
    status, _, _ = request("GET", f"{BASE}/api/v1/deployments", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, f"the API answered {status}"
    for name, value in [("COOKIE", cookie), ("TOKEN", token), ("DASHBOARD_BYTES", str(len(dashboard)))]:
        print(f"{name}={shlex.quote(value)}")


main()
