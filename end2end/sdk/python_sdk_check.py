"""Scalekit's official Python SDK (scalekit-sdk-python from PyPI) against the development identity
provider: the provider is only useful if Scalekit's own SDKs accept it as they accept Scalekit.

Usage: python python_sdk_check.py <app base URL>   (exits non-zero on the first failed check)
"""

import base64
import hashlib
import json
import os
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from scalekit import ScalekitClient
from scalekit.common.scalekit import (
    AuthorizationUrlOptions,
    CodeAuthenticationOptions,
    LogoutUrlOptions,
    TokenValidationOptions,
)
from scalekit.common.exceptions import WebhookVerificationError
from scalekit.v1.sessions.sessions_pb2 import UserSessionFilter

from tls_front import TlsFront

CLIENT_ID = "skc_dev_leptos_scalekit"
CLIENT_SECRET = "dev-only-secret-never-used-with-scalekit"
# The development provider's public webhook secret (scalekit_dev_idp::settings::DEV_WEBHOOK_SECRET):
# it signs the app's webhooks with it when SCALEKIT_WEBHOOK_SECRET is unset, as in the test command.
DEV_WEBHOOK_SECRET = "whsec_bGVwdG9zLXNjYWxla2l0LWRldi1wcm92aWRlci13ZWJob29rcy1vbmx5"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def redirect_location(url: str) -> urllib.parse.ParseResult:
    """GETs `url` without following the redirect and returns where it points."""
    tls = ssl.create_default_context(cafile=os.environ.get("REQUESTS_CA_BUNDLE"))
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=tls))
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as answer:
        if answer.code == 302:
            return urllib.parse.urlparse(answer.headers["Location"])
        raise
    raise AssertionError(f"{url} did not redirect")


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)
    print(f"ok  {what}")


def main(base_url: str) -> None:
    env_url = f"{base_url}/dev-idp"
    redirect_uri = f"{base_url}/auth/callback"
    # The constructor already asks the token endpoint for a client_credentials token.
    client = ScalekitClient(env_url, CLIENT_ID, CLIENT_SECRET)
    print("ok  client construction (client_credentials at start-up)")

    options = AuthorizationUrlOptions()
    options.scopes = ["openid", "profile", "email", "offline_access"]
    options.state = secrets.token_urlsafe(16)
    options.nonce = secrets.token_urlsafe(16)
    options.login_hint = "admin"
    auth_url = client.get_authorization_url(redirect_uri, options)
    check(auth_url.startswith(f"{env_url}/oauth/authorize?"), "get_authorization_url")

    callback = redirect_location(auth_url)
    query = urllib.parse.parse_qs(callback.query)
    check(query["state"] == [options.state], "scripted persona login returns the state")
    code = query["code"][0]

    result = client.authenticate_with_code(code, redirect_uri, CodeAuthenticationOptions())
    check(result["user"]["email"] == "ada.admin@example.com", "authenticate_with_code: user from the ID token")
    check(result["organization_id"].startswith("org_"), "authenticate_with_code: organization_id from oid")
    check(result["refresh_token"] is not None, "authenticate_with_code: refresh token with offline_access")

    claims = client.validate_access_token_and_get_claims(
        result["access_token"], TokenValidationOptions(issuer=env_url, audience=[CLIENT_ID])
    )
    check("organization:settings" in claims["permissions"], "validate_access_token_and_get_claims")

    first = client.refresh_access_token(result["refresh_token"])
    second = client.refresh_access_token(first["refresh_token"])
    check(
        len({result["refresh_token"], first["refresh_token"], second["refresh_token"]}) == 3,
        "refresh_access_token twice: each rotation gives a new refresh token",
    )
    try:
        client.refresh_access_token(result["refresh_token"])
    except Exception as error:  # the SDK raises on any non-200 answer, with the body in the text
        check("invalid_grant" in str(error), "a rotated refresh token is refused with invalid_grant")
    else:
        check(False, "a rotated refresh token is refused")

    logout_url = client.get_logout_url(
        LogoutUrlOptions(id_token_hint=result["id_token"], post_logout_redirect_uri=base_url, state="py-bye")
    )
    back = redirect_location(logout_url)
    check(urllib.parse.parse_qs(back.query)["state"] == ["py-bye"], "get_logout_url: logout echoes the state")

    token = client.generate_client_token(CLIENT_ID, CLIENT_SECRET)
    token = token["access_token"] if isinstance(token, dict) else token
    header = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
    check(b'"kid":"snk_' in decoded, "generate_client_token: a client_credentials token signed with an snk_ key")


def claims_of(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def sign_in(client: ScalekitClient, base_url: str, persona: str) -> tuple[dict, dict]:
    """A new provider session for `persona` (login_hint, no page): the tokens and ID-token claims."""
    redirect_uri = f"{base_url}/auth/callback"
    options = AuthorizationUrlOptions()
    options.scopes = ["openid", "profile", "email", "offline_access"]
    options.state = secrets.token_urlsafe(16)
    options.nonce = secrets.token_urlsafe(16)
    options.login_hint = persona
    callback = redirect_location(client.get_authorization_url(redirect_uri, options))
    code = urllib.parse.parse_qs(callback.query)["code"][0]
    result = client.authenticate_with_code(code, redirect_uri, CodeAuthenticationOptions())
    return result, claims_of(result["id_token"])


def idp_initiated_token(base_url: str, persona: str, relay_state: str) -> str:
    """The token the provider's "start from the identity provider" page sends the app."""
    form = urllib.parse.urlencode(
        {"persona": persona, "client_id": CLIENT_ID, "relay_state": relay_state}
    ).encode()
    request = urllib.request.Request(f"{base_url}/dev-idp/idp-initiated", data=form, method="POST")
    try:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    except urllib.error.HTTPError as answer:
        if answer.code == 303:
            target = urllib.parse.urlparse(answer.headers["Location"])
            check(target.path == "/auth/initiate-login", "the IdP-initiated page sends the browser to the app")
            return urllib.parse.parse_qs(target.query)["idp_initiated_login"][0]
        raise
    raise AssertionError("the IdP-initiated page did not redirect")


def check_routing(client: ScalekitClient, base_url: str) -> None:
    """IdP-initiated login claims, and authorization URLs with the routing parameters the app sends."""
    env_url = f"{base_url}/dev-idp"
    token = idp_initiated_token(base_url, "admin", "/sessions")
    claims = client.get_idp_initiated_login_claims(
        token, options=TokenValidationOptions(issuer=env_url, audience=[CLIENT_ID])
    )
    check(claims["connection_id"] == "conn_200000000000000001", "get_idp_initiated_login_claims: connection_id")
    check(claims["organization_id"] == "org_100000000000000001", "get_idp_initiated_login_claims: organization_id")
    check(claims["login_hint"] == "ada.admin@example.com", "get_idp_initiated_login_claims: login_hint")
    check(claims["relay_state"] == "/sessions", "get_idp_initiated_login_claims: relay_state")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    try:
        client.get_idp_initiated_login_claims(forged)
        raise AssertionError("a token with a broken signature was accepted")
    except AssertionError:
        raise
    except Exception:
        print("ok  get_idp_initiated_login_claims refuses a broken signature")

    # The SDK's URL with the token's hints: the provider routes through the connection (amr).
    redirect_uri = f"{base_url}/auth/callback"
    options = AuthorizationUrlOptions()
    options.scopes = ["openid", "email"]
    options.state = secrets.token_urlsafe(16)
    options.connection_id = claims["connection_id"]
    options.organization_id = claims["organization_id"]
    options.login_hint = claims["login_hint"]
    auth_url = client.get_authorization_url(redirect_uri, options)
    sent = urllib.parse.parse_qs(urllib.parse.urlparse(auth_url).query)
    check(sent["connection_id"] == [claims["connection_id"]], "get_authorization_url carries connection_id")
    callback = redirect_location(auth_url)
    code = urllib.parse.parse_qs(callback.query)["code"][0]
    result = client.authenticate_with_code(code, redirect_uri, CodeAuthenticationOptions())
    check(result["connection_id"] == "conn_200000000000000001", "authenticate_with_code: connection_id (amr) is the routed one")

    options = AuthorizationUrlOptions()
    options.state = secrets.token_urlsafe(16)
    options.domain_hint = "example.com"
    options.login_hint = "admin"
    callback = redirect_location(client.get_authorization_url(redirect_uri, options))
    code = urllib.parse.parse_qs(callback.query)["code"][0]
    result = client.authenticate_with_code(code, redirect_uri, CodeAuthenticationOptions())
    check(result["connection_id"] == "conn_200000000000000001", "domain_hint routes to the domain's connection")


def check_sessions(base_url: str, tls_port: int) -> None:
    """The SDK's sessions client, over its TLS gRPC channel, against the provider's SessionService."""
    client = ScalekitClient(f"https://127.0.0.1:{tls_port}/dev-idp", CLIENT_ID, CLIENT_SECRET)
    first, first_claims = sign_in(client, base_url, "member")
    second, second_claims = sign_in(client, base_url, "member")
    user_id = first_claims["sub"]

    active = UserSessionFilter(status=["active"])
    listed, _call = client.sessions.get_user_sessions(user_id, page_size=50, filter=active)
    listed_ids = [s.session_id for s in listed.sessions]
    check(
        first_claims["sid"] in listed_ids and second_claims["sid"] in listed_ids,
        "sessions.get_user_sessions over gRPC lists both new sessions",
    )
    check(all(s.status == "ACTIVE" for s in listed.sessions), "get_user_sessions: the status filter holds")

    one, _call = client.sessions.get_session(first_claims["sid"])
    check(
        one.user_id == user_id and CLIENT_ID in [c.client_id for c in one.authenticated_clients],
        "sessions.get_session: owner and authenticated client",
    )

    revoked, _call = client.sessions.revoke_session(first_claims["sid"])
    check(revoked.revoked_session.status == "REVOKED", "sessions.revoke_session")
    try:
        client.refresh_access_token(first["refresh_token"])
    except Exception as error:
        check("invalid_grant" in str(error), "a revoked session's refresh token is refused")
    else:
        check(False, "a revoked session's refresh token is refused")

    everything, _call = client.sessions.revoke_all_user_sessions(user_id)
    check(
        second_claims["sid"] in [s.session_id for s in everything.revoked_sessions]
        and everything.total_revoked == len(everything.revoked_sessions),
        "sessions.revoke_all_user_sessions",
    )
    try:
        client.sessions.get_session("ses_999999999")
    except Exception as error:
        check("not found" in str(error).lower(), "get_session of an unknown session: NOT_FOUND")
    else:
        check(False, "get_session of an unknown session fails")


def webhooks_shown(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/dev-idp/_control/webhooks", timeout=10) as answer:
        return json.load(answer)


def expect_refused(client: ScalekitClient, secret: str, headers: dict, body: str, what: str) -> None:
    try:
        client.verify_webhook_payload(secret, headers, body.encode())
    except WebhookVerificationError:
        check(True, what)
    else:
        check(False, what)


def check_webhooks(client: ScalekitClient, base_url: str) -> None:
    """A webhook the provider signed, checked with the SDK's own verify_webhook_payload. The
    request is taken from /_control/webhooks as it was sent to the app, byte for byte, so what is
    verified is exactly what the app received; no listener of our own is needed."""
    started = int(time.time())
    sign_in(client, base_url, "member")  # a user.login, signed now
    deadline = time.time() + 10
    while True:
        last = webhooks_shown(base_url).get("last_signed")
        if last and int(last["headers"]["webhook-timestamp"]) >= started:
            break
        if time.time() > deadline:
            raise AssertionError("the provider signed no webhook")
        time.sleep(0.1)
    headers, body = last["headers"], last["body"]
    check(
        client.verify_webhook_payload(DEV_WEBHOOK_SECRET, headers, body.encode()) is True,
        "w1: a webhook the provider signed verifies with verify_webhook_payload",
    )
    event = json.loads(body)
    check(
        event["id"] == headers["webhook-id"] and event["spec_version"] == "1" and event["type"].startswith("user."),
        "w1: the body is a Scalekit event whose id is the webhook-id",
    )
    expect_refused(client, DEV_WEBHOOK_SECRET, headers, body.replace(event["id"], event["id"] + "0"),
                   "w2: a changed body does not verify")
    other = "whsec_" + base64.b64encode(b"a-secret-that-is-not-the-providers").decode()
    expect_refused(client, other, headers, body, "w3: another secret does not verify")
    old = dict(headers, **{"webhook-timestamp": str(int(headers["webhook-timestamp"]) - 600)})
    expect_refused(client, DEV_WEBHOOK_SECRET, old, body, "w4: an old timestamp does not verify")
    while True:
        delivered = [d for d in webhooks_shown(base_url)["deliveries"] if d["id"] == headers["webhook-id"]]
        if delivered:
            break
        if time.time() > deadline:
            raise AssertionError("the delivery was not logged")
        time.sleep(0.1)
    check(delivered[-1]["status"] == 200, "the app verified the same delivery (200)")
    check_app_verifies_sdk_style_signatures(base_url)


def deliver_answer(base_url: str, headers: dict, body: bytes) -> tuple:
    """The app's status and JSON answer to a delivery."""
    request = urllib.request.Request(f"{base_url}/webhooks/scalekit", data=body, method="POST",
                                     headers=dict(headers, **{"content-type": "application/json"}))
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as answer:
        return answer.code, None


def deliver(base_url: str, headers: dict, body: bytes) -> int:
    return deliver_answer(base_url, headers, body)[0]


def check_app_verifies_sdk_style_signatures(base_url: str) -> None:
    """The app's endpoint accepts a delivery signed as the SDK's own tests sign one (HMAC-SHA256
    over `{id}.{timestamp}.{body}` with the base64-decoded part of the secret after `whsec_`),
    acknowledges it again as a duplicate, and refuses it once changed."""
    import hmac

    key = base64.b64decode(DEV_WEBHOOK_SECRET.split("_", 1)[1])
    webhook_id = "msg_" + secrets.token_hex(8)
    timestamp = str(int(time.time()))
    body = json.dumps({"spec_version": "1", "id": "evt_" + secrets.token_hex(8), "type": "organization.updated",
                       "organization_id": "org_100000000000000001", "data": {}}).encode()
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    signature = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": webhook_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
    check(deliver(base_url, headers, body) == 200, "the app accepts a delivery signed as the SDK's tests sign")
    status, again = deliver_answer(base_url, headers, body)
    check(status == 200 and again.get("duplicate") is True,
          "the app acknowledges the same webhook-id again as a duplicate, acted on once")
    tampered = dict(headers, **{"webhook-id": webhook_id + "x"})
    check(deliver(base_url, tampered, body) == 401, "the app refuses a signature over another id")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    base = sys.argv[1].rstrip("/")
    backend_port = urllib.parse.urlparse(base).port
    with TlsFront(backend_port) as front:
        # Read once, at the first TLS client: set before any client is made.
        os.environ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = front.ca_file
        os.environ["REQUESTS_CA_BUNDLE"] = front.ca_file
        main(base)
        check_routing(ScalekitClient(f"{base}/dev-idp", CLIENT_ID, CLIENT_SECRET), base)
        check_sessions(base, front.port)
        check_webhooks(ScalekitClient(f"{base}/dev-idp", CLIENT_ID, CLIENT_SECRET), base)
