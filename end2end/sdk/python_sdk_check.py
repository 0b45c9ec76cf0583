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
from scalekit.v1.sessions.sessions_pb2 import UserSessionFilter

from tls_front import TlsFront

CLIENT_ID = "skc_dev_leptos_scalekit"
CLIENT_SECRET = "dev-only-secret-never-used-with-scalekit"


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
        check_sessions(base, front.port)
