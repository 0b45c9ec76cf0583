// An independent OpenID provider for interop tests: panva's `oidc-provider` (OpenID Certified),
// configured with Scalekit's paths, claims and token shapes (docs: scalekit-protocol.md §1–§5), so
// the app is proven against an implementation we did not write. Used by tests/suite/interop_oidc_provider.rs.
//
//   APP_URL=http://127.0.0.1:3000 CLIENT_ID=skc_… CLIENT_SECRET=… node scalekit-like-op.mjs
//
// Listens on 127.0.0.1 and an ephemeral port (or PORT) and prints `listening <issuer>` when ready.
// Sign-in needs no password: `login_hint` naming a persona signs it in, otherwise a form asks which
// persona. First-party consent is granted without asking, as Scalekit does.
// GET /_interop/stats reports token-endpoint outcomes by grant type, for the tests' assertions.

import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`scalekit-like-op: set ${name}`);
    process.exit(2);
  }
  return value;
}

const appUrl = required('APP_URL').replace(/\/$/, '');
const clientId = required('CLIENT_ID');
const clientSecret = required('CLIENT_SECRET');
// The audience machine tokens carry, as a Scalekit API client's `audience` setting would give it.
const apiAudience = process.env.API_AUDIENCE || appUrl;
const apiScopes = 'read:deployments deploy:applications';

// Scalekit signs sessions' tokens for the app (audience = its client id); here that is a resource
// the app never names, chosen by default for the app's own client.
const sessionResource = 'urn:scalekit:interop:session';

const personas = {
  admin: {
    sub: 'usr_interop_000000000001',
    email: 'grace@interop.example',
    email_verified: true,
    name: 'Grace Hopper',
    given_name: 'Grace',
    family_name: 'Hopper',
    oid: 'org_interop_000000000001',
    roles: ['admin'],
    permissions: ['organization:settings', 'organization:read'],
  },
  member: {
    sub: 'usr_interop_000000000002',
    email: 'alan@interop.example',
    email_verified: true,
    name: 'Alan Turing',
    given_name: 'Alan',
    family_name: 'Turing',
    oid: 'org_interop_000000000001',
    roles: ['member'],
    permissions: ['organization:read'],
  },
};
const personaBySub = new Map(Object.values(personas).map((p) => [p.sub, p]));

// Organization API clients (Scalekit: `m2morg_…`), each in an organization with its scopes.
const machineClients = [
  {
    client_id: 'm2morg_interop_reader',
    client_secret: 'interop-reader-secret-0123456789',
    oid: 'org_interop_000000000001',
    scope: 'read:deployments',
  },
  {
    client_id: 'm2morg_interop_deployer',
    client_secret: 'interop-deployer-secret-0123456789',
    oid: 'org_interop_000000000001',
    scope: apiScopes,
  },
  {
    // A client of some other API in the same environment: its tokens must not open this app's.
    client_id: 'm2morg_interop_other_api',
    client_secret: 'interop-other-api-secret-0123456789',
    oid: 'org_interop_000000000001',
    scope: apiScopes,
    audience: 'https://other-api.interop.example',
  },
];
const machineById = new Map(machineClients.map((c) => [c.client_id, c]));

const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
signingKey.kid = `snk_interop_${crypto.randomBytes(6).toString('hex')}`;
signingKey.alg = 'RS256';
signingKey.use = 'sig';

const stats = { grant_success: {}, grant_error: {}, end_session: 0 };
const bump = (table, key) => { table[key] = (table[key] || 0) + 1; };

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  routes: {
    authorization: '/oauth/authorize',
    token: '/oauth/token',
    jwks: '/keys',
    end_session: '/oidc/logout',
    userinfo: '/userinfo',
  },
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${appUrl}/auth/callback`],
      post_logout_redirect_uris: [appUrl, `${appUrl}/`],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      // Scalekit SDKs and this app authenticate with the secret in the body.
      token_endpoint_auth_method: 'client_secret_post',
    },
    ...machineClients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      scope: c.scope,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    })),
  ],
  scopes: ['openid', 'offline_access', 'profile', 'email', ...apiScopes.split(' ')],
  claims: {
    openid: ['sub', 'oid'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  // Scalekit puts profile and email claims in the ID token itself.
  conformIdTokenClaims: false,
  async findAccount(_ctx, sub) {
    const persona = personaBySub.get(sub);
    if (!persona) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { roles: _r, permissions: _p, ...claims } = persona;
        return claims;
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign out</title></head>
          <body><h1>Sign out of ${escapeHtml(ctx.host)}?</h1>${form}
          <button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
          </body></html>`;
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signed out</title></head><body>Signed out.</body></html>';
      },
    },
    resourceIndicators: {
      enabled: true,
      async defaultResource(_ctx, client, oneOf) {
        if (oneOf) return oneOf;
        const machine = machineById.get(client.clientId);
        return machine ? (machine.audience || apiAudience) : sessionResource;
      },
      async useGrantedResource() {
        return true;
      },
      async getResourceServerInfo(_ctx, resource, client) {
        const jwt = { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        if (resource === sessionResource && client.clientId === clientId) {
          // Scalekit's user access token: audience = the app's client id, 299 s.
          return { ...jwt, scope: '', audience: clientId, accessTokenTTL: 299 };
        }
        const machine = machineById.get(client.clientId);
        if (machine && resource === (machine.audience || apiAudience)) {
          return { ...jwt, scope: apiScopes, audience: resource, accessTokenTTL: 3600 };
        }
        throw new Provider.errors.InvalidTarget();
      },
    },
  },
  async extraTokenClaims(_ctx, token) {
    if (token.kind === 'ClientCredentials') {
      const machine = machineById.get(token.clientId);
      // Scalekit's machine tokens carry `scopes` as an array, and the client's organization.
      return machine ? { oid: machine.oid, scopes: (token.scope || '').split(' ').filter(Boolean) } : undefined;
    }
    const persona = personaBySub.get(token.accountId);
    if (!persona) return undefined;
    return { oid: persona.oid, roles: persona.roles, permissions: persona.permissions, sid: `ses_${token.sessionUid}` };
  },
  // Scalekit rotates refresh tokens on every use.
  rotateRefreshToken: () => true,
  ttl: {
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
    IdToken: 3600,
    RefreshToken: 14 * 24 * 3600,
    ClientCredentials: 3600,
  },
  pkce: { required: () => false },
});

provider.on('grant.success', (ctx) => bump(stats.grant_success, ctx.oidc.params.grant_type));
provider.on('grant.error', (ctx) => bump(stats.grant_error, ctx.oidc.params?.grant_type || 'unknown'));
provider.on('end_session.success', () => { stats.end_session += 1; });

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 4096) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function loginPage(res, uid) {
  const buttons = Object.entries(personas)
    .map(([key, p]) => `<button name="persona" value="${key}">${escapeHtml(p.name)} (${key})</button>`)
    .join('');
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>
    <h1>Sign in (interop provider)</h1>
    <form method="post" action="/interaction/${escapeHtml(uid)}/login">${buttons}</form></body></html>`);
}

async function interaction(req, res, url) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, uid } = details;
  if (prompt.name === 'login') {
    let key = params.login_hint;
    if (req.method === 'POST' && url.pathname === `/interaction/${uid}/login`) {
      key = (await readForm(req)).get('persona');
    }
    const persona = Object.hasOwn(personas, key ?? '') ? personas[key] : undefined;
    if (!persona) return loginPage(res, uid);
    return provider.interactionFinished(req, res, { login: { accountId: persona.sub } }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  res.writeHead(400, { 'content-type': 'text/plain' });
  res.end(`unsupported prompt ${prompt.name}`);
}

const handle = provider.callback();
server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/_interop/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(stats));
    return;
  }
  if (url.pathname === '/oauth/authorize' && !url.searchParams.has('prompt')
    && (url.searchParams.get('scope') || '').split(' ').includes('offline_access')) {
    // Scalekit issues a refresh token for `offline_access` alone; panva follows OIDC Core §11 and
    // also wants `prompt=consent` (which our interaction grants without asking).
    url.searchParams.set('prompt', 'consent');
    req.url = `${url.pathname}${url.search}`;
  }
  if (url.pathname.startsWith('/interaction/')) {
    interaction(req, res, url).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${error.message}`);
    });
    return;
  }
  handle(req, res);
});

// Stop with the test process: stdin closes when the parent goes away.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
console.log(`listening ${issuer}`);
