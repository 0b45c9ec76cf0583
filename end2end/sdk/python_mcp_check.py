"""The official Python MCP SDK (PyPI `mcp`) against the app's /mcp endpoint.

The client starts with no token. From the 401 it finds the protected-resource metadata, then the
resource's authorization server at the development provider; it registers itself dynamically,
sends the "browser" to the authorization URL (the provider signs the persona in from
`login_hint`), exchanges the code with PKCE and calls the tools. Then an admin client holding
only `read:deployments` is refused `create_deployment` with a step-up challenge, and a member
(whose role may not deploy) is refused it with a plain 403 and no step-up.

Usage: python_mcp_check.py http://127.0.0.1:PORT
"""

import asyncio
import logging
import sys
import urllib.parse

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

REDIRECT_URI = "http://127.0.0.1:8977/callback"

# The declined step-up below is expected; the SDK would log its traceback.
logging.getLogger("mcp").setLevel(logging.CRITICAL)


class MemoryStorage:
    """Tokens and the registration, for this run only."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


class StepUpDeclined(Exception):
    """The user declined to grant a wider scope."""


def oauth(base: str, persona: str, consent_to=None, decline_step_up=None) -> OAuthClientProvider:
    """The SDK's OAuth provider with a scripted browser. `consent_to` narrows the scopes the user
    grants (the SDK asks for everything the resource lists); `decline_step_up` collects the scope
    of any later authorization (a step-up after 403) and declines it."""
    redirect = {}

    async def open_browser(authorization_url: str) -> None:
        parts = urllib.parse.urlparse(authorization_url)
        query = urllib.parse.parse_qs(parts.query)
        if "code" in redirect and decline_step_up is not None:
            decline_step_up.append(query["scope"][0])
            raise StepUpDeclined(query["scope"][0])
        if consent_to is not None:
            query["scope"] = [consent_to]
            authorization_url = parts._replace(
                query=urllib.parse.urlencode(query, doseq=True)
            ).geturl()
        # What the user's browser would do; the provider answers at once for a login_hint.
        async with httpx2.AsyncClient() as http:
            hint = urllib.parse.urlencode({"login_hint": persona})
            answer = await http.get(f"{authorization_url}&{hint}")
        assert answer.status_code == 302, (answer.status_code, answer.text[-1000:])
        location = answer.headers["location"]
        assert location.startswith(REDIRECT_URI), location
        redirect.update(urllib.parse.parse_qs(urllib.parse.urlparse(location).query))

    async def read_callback() -> AuthorizationCodeResult:
        return AuthorizationCodeResult(code=redirect["code"][0], state=redirect["state"][0])

    return OAuthClientProvider(
        server_url=f"{base}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="leptos-scalekit python check",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=MemoryStorage(),
        redirect_handler=open_browser,
        callback_handler=read_callback,
    )


def structured(result) -> dict:
    assert not result.is_error, result
    return result.structured_content


async def full_access(base: str) -> None:
    auth = oauth(base, "admin")
    async with create_mcp_http_client(auth=auth) as http:
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
            tools = sorted(tool.name for tool in (await client.list_tools()).tools)
            assert tools == ["create_deployment", "list_deployments", "whoami"], tools
            me = structured(await client.call_tool("whoami", {}))
            assert me["subject"] == "usr_100000000000000001", me
            assert me["client_id"].startswith("m2m_"), me
            assert "deploy:applications" in me["scopes"], me
            created = structured(
                await client.call_tool("create_deployment", {"name": "from-python"})
            )
            assert created["environment"] == "staging", created
            listed = structured(await client.call_tool("list_deployments", {}))
            names = [d["name"] for d in listed["deployments"]]
            assert "from-python" in names, listed
            assert "nope" not in names, "the refused call must not have created anything"
            assert "by-member" not in names, "the member's call must not have created anything"
    print("ok  python mcp client: discovery, registration, PKCE sign-in, whoami/list/create")


async def read_only(base: str) -> None:
    # The admin may deploy but consents to less: asking again can help, so the 403 says what for.
    step_ups = []
    auth = oauth(base, "admin", consent_to="read:deployments", decline_step_up=step_ups)
    try:
        async with create_mcp_http_client(auth=auth) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                me = structured(await client.call_tool("whoami", {}))
                assert me["scopes"] == ["read:deployments"], me
                structured(await client.call_tool("list_deployments", {}))
                result = await client.call_tool("create_deployment", {"name": "nope"})
                raise AssertionError(f"create_deployment without its scope ran: {result}")
    except* StepUpDeclined:
        pass  # the SDK's step-up, declined, ends the connection
    # The 403's challenge named the missing scope, and the SDK asked the user for it.
    assert len(step_ups) == 1 and "deploy:applications" in step_ups[0].split(), step_ups
    print("ok  python mcp client: create_deployment refused (403 insufficient_scope, step-up declined)")


async def member(base: str) -> None:
    # The SDK asks for every scope; the provider grants the member only what their role allows,
    # and /mcp refuses the rest with a plain 403 that no client should answer by re-authorizing.
    step_ups = []
    auth = oauth(base, "member", decline_step_up=step_ups)
    async with create_mcp_http_client(auth=auth) as http:
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
            me = structured(await client.call_tool("whoami", {}))
            assert "deploy:applications" not in me["scopes"], me
            structured(await client.call_tool("list_deployments", {}))
            try:
                result = await client.call_tool("create_deployment", {"name": "by-member"})
                raise AssertionError(f"a member's create_deployment ran: {result}")
            except MCPError:
                pass  # the SDK reports the 403 as an error response
    assert step_ups == [], step_ups
    print("ok  python mcp client: a member's create_deployment refused (403 forbidden, no step-up)")


async def main(base: str) -> None:
    await read_only(base)
    await member(base)
    await full_access(base)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/")))
