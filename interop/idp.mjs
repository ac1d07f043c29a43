#!/usr/bin/env node
// An OpenID provider for the mcp-auth interop tests, built on oidc-provider.
//
//   node idp.mjs --port 0 --resource <url> [--resource <url> ...]
//                [--alg RS256|ES256] [--client <id>:<secret>:<redirect_uri>]
//                [--access-token-ttl <seconds>]
//
// Listens on 127.0.0.1:<port> (0 = any free port); the issuer is
// http://127.0.0.1:<port>. Once listening it prints exactly one line of JSON on
// stdout, {"issuer":"http://127.0.0.1:PORT"}, and nothing else afterwards: every
// log line goes to stderr.
//
// What it does:
// - Access tokens are JWTs (typ at+jwt) signed with --alg (default RS256), with
//   aud = the resource indicator. Only the --resource values are accepted
//   (anything else: invalid_target); a request without `resource` gets the first
//   one. Claims: iss, sub, aud, exp, iat, jti, client_id, scope, plus email for
//   tokens issued to a user.
// - Dynamic client registration (open), PKCE S256 required for every
//   authorization-code request, refresh tokens for every client whose grant_types
//   include refresh_token, client_credentials, revocation, introspection.
// - Scopes: openid profile email offline_access mcp:tools admin; requests without
//   openid (plain OAuth) work.
// - Any login is accepted: sub = the login, email = <login>@example.com.
// - Interactions at /interaction/:uid: a page with one <form method="post">
//   (login prompt: inputs login and password; consent prompt: hidden inputs
//   only). Submitting it completes the prompt; consent grants everything asked.
//
// Control endpoints (answered before the provider sees the request):
// - POST /__control/rotate: generates a new signing key for --alg with a new kid,
//   signs every token from now on with it, and keeps the previous keys in the
//   JWKS (the new key first). Answers {"kid":"<new kid>"}. Clients, grants,
//   sessions and refresh tokens survive (see rotate() below).
// - GET /__control/stats: answers {"jwks_requests":N}, the number of GET requests
//   to the jwks_uri (/jwks) so far.
//
// The process exits on SIGTERM/SIGINT and, when stdin is a pipe or socket (as when
// a test harness spawns it), as soon as stdin closes.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

// oidc-provider prints notices with console.info (stdout): stdout is reserved for
// the one JSON line, so everything the process logs goes to stderr.
for (const level of ['log', 'info', 'debug']) {
  console[level] = (...args) => console.error(...args);
}

const { default: Provider, errors } = await import('oidc-provider');

const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'mcp:tools', 'admin'];
const RESOURCE_SCOPE = 'openid profile email offline_access mcp:tools admin';
const JWKS_PATH = '/jwks';

function fail(message) {
  console.error(`idp.mjs: ${message}`);
  process.exit(2);
}

function readOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        resource: { type: 'string', multiple: true, default: [] },
        alg: { type: 'string', default: 'RS256' },
        client: { type: 'string', multiple: true, default: [] },
        'access-token-ttl': { type: 'string' },
      },
      strict: true,
    });
  } catch (e) {
    fail(e.message);
  }
  const { values } = parsed;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${values.port} is not a TCP port`);
  if (!values.resource.length) fail('at least one --resource <url> is required');
  for (const r of values.resource) {
    if (!URL.canParse(r)) fail(`--resource ${r} is not an absolute URL`);
  }
  if (!['RS256', 'ES256'].includes(values.alg)) fail(`--alg must be RS256 or ES256, not ${values.alg}`);
  const clients = values.client.map((spec) => {
    // id:secret:redirect_uri (the redirect URI itself contains colons)
    const first = spec.indexOf(':');
    const second = first < 0 ? -1 : spec.indexOf(':', first + 1);
    if (first <= 0 || second <= first + 1 || second === spec.length - 1) {
      fail(`--client ${spec} is not <id>:<secret>:<redirect_uri>`);
    }
    const redirectUri = spec.slice(second + 1);
    if (!URL.canParse(redirectUri)) fail(`--client redirect URI ${redirectUri} is not an absolute URL`);
    return {
      client_id: spec.slice(0, first),
      client_secret: spec.slice(first + 1, second),
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    };
  });
  let accessTokenTtl;
  if (values['access-token-ttl'] !== undefined) {
    accessTokenTtl = Number(values['access-token-ttl']);
    if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) fail('--access-token-ttl must be a positive number of seconds');
  }
  return { port, resources: values.resource, alg: values.alg, clients, accessTokenTtl };
}

const options = readOptions();

// ---------------------------------------------------------------------------
// Signing keys: private JWKs, newest first.

function generateKey(alg) {
  const { privateKey } = alg === 'RS256'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = `${alg.toLowerCase()}-${crypto.randomBytes(6).toString('hex')}`;
  return { ...jwk, kid, use: 'sig', alg };
}

const keys = [generateKey('RS256'), generateKey('ES256')];
let currentKid = keys.find((k) => k.alg === options.alg).kid;

// Shared by every Provider instance so that cookies stay valid after a rotation.
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

// ---------------------------------------------------------------------------
// Storage: one in-memory store shared by every Provider instance this process
// builds (oidc-provider's own memory adapter keeps a store per instance, which a
// key rotation would lose; see rotate()).

const store = new Map(); // `${model}:${id}` -> { payload, expiresAt }
const grantMembers = new Map(); // grantId -> Set of store keys
const sessionsByUid = new Map(); // uid -> Session id
const idsByUserCode = new Map(); // userCode -> id

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  read(id) {
    const key = this.key(id);
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    store.set(key, { payload: structuredClone(payload), expiresAt });
    if (payload.grantId) {
      if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
      grantMembers.get(payload.grantId).add(key);
    }
    if (this.model === 'Session' && payload.uid) sessionsByUid.set(payload.uid, id);
    if (payload.userCode) idsByUserCode.set(payload.userCode, id);
  }

  async find(id) {
    const entry = this.read(id);
    return entry ? structuredClone(entry.payload) : undefined;
  }

  async findByUid(uid) {
    const id = sessionsByUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = idsByUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const entry = this.read(id);
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) store.delete(key);
    grantMembers.delete(grantId);
  }
}

// ---------------------------------------------------------------------------
// The provider.

function makeProvider(issuer) {
  const configuration = {
    adapter: SharedMemoryAdapter,
    jwks: { keys: keys.map((k) => ({ ...k })) },
    clients: options.clients.map((c) => ({ ...c })),
    cookies: { keys: cookieKeys },
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    routes: { jwks: JWKS_PATH },
    responseTypes: ['code', 'none'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => (oneOf ? oneOf[0] : options.resources[0]),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (!options.resources.includes(resourceIndicator)) {
            throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
          }
          return {
            scope: RESOURCE_SCOPE,
            audience: resourceIndicator,
            accessTokenFormat: 'jwt',
            ...(options.accessTokenTtl ? { accessTokenTTL: options.accessTokenTtl } : {}),
            jwt: { sign: { alg: options.alg, kid: currentKid } },
          };
        },
      },
    },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      AuthorizationCode: 120,
      ClientCredentials: options.accessTokenTtl ?? 3600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 86400,
      Grant: 86400,
      RefreshToken: 86400,
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Refresh tokens do not die with the browser session (tests keep using them).
    expiresWithSession: () => false,
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({
        sub,
        email: `${sub}@example.com`,
        email_verified: true,
        name: sub,
      }),
    }),
    extraTokenClaims: (_ctx, token) => (token.accountId ? { email: `${token.accountId}@example.com` } : undefined),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><body><h1>error</h1><pre>${escapeHtml(JSON.stringify(out, null, 2))}</pre></body></html>`;
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx, err) => console.error('idp: server_error', err));
  return { provider, callback: provider.callback() };
}

// ---------------------------------------------------------------------------
// Interactions.

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, contentType, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

async function showInteraction(provider, req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction uid mismatch');
  const { prompt, params } = details;
  const action = `/interaction/${encodeURIComponent(uid)}`;
  let html;
  if (prompt.name === 'login') {
    html = page('Sign in', `<p>Client ${escapeHtml(params.client_id)} asks you to sign in (any login works).</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="prompt" value="login">
<label>Login <input type="text" name="login" autofocus></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form>`);
  } else {
    html = page('Authorize', `<p>Client ${escapeHtml(params.client_id)} asks for: ${escapeHtml(params.scope ?? '(no scope)')}
on ${escapeHtml(params.resource ?? '(default resource)')}.</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="prompt" value="${escapeHtml(prompt.name)}">
<button type="submit">Allow</button>
</form>`);
  }
  send(res, 200, 'text/html; charset=utf-8', html);
}

async function submitInteraction(provider, req, res, uid) {
  const form = new URLSearchParams(await readBody(req));
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction uid mismatch');
  const { prompt, params, session, grantId } = details;

  if (prompt.name === 'login') {
    const login = (form.get('login') ?? '').trim();
    if (!login) {
      send(res, 400, 'text/plain; charset=utf-8', 'login is required\n');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }

  if (prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    // Also grant the requested scopes on the requested resource even when none were
    // reported missing (a fresh grant, a native client's mandatory consent).
    const requested = (params.scope ?? '').split(' ').filter(Boolean);
    const resources = [params.resource ?? options.resources[0]].flat();
    const resourceScopes = requested.filter((s) => RESOURCE_SCOPE.split(' ').includes(s));
    if (resourceScopes.length) {
      for (const indicator of resources) {
        if (options.resources.includes(indicator)) grant.addResourceScope(indicator, resourceScopes.join(' '));
      }
    }
    const oidcScopes = requested.filter((s) => SCOPES.includes(s));
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    const savedId = await grant.save();
    const consent = grantId ? {} : { grantId: savedId };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }

  send(res, 400, 'text/plain; charset=utf-8', `unsupported prompt ${prompt.name}\n`);
}

// ---------------------------------------------------------------------------
// HTTP server: control endpoints and interactions first, then the provider.

let current; // { provider, callback }
let issuer;
let jwksRequests = 0;

// Rotation: oidc-provider copies `jwks` into a private keystore when the Provider is
// constructed and offers no API to change it. So a rotation builds a new Provider
// instance with the new key in front of the old ones and swaps it in. Every
// instance uses the same SharedMemoryAdapter store, so registered clients, grants,
// sessions, interactions and refresh tokens survive; the cookie signing keys are
// shared too. Requests already in flight finish on the
// old instance.
function rotate() {
  const key = generateKey(options.alg);
  keys.unshift(key);
  currentKid = key.kid;
  current = makeProvider(issuer);
  console.error(`idp: rotated the ${options.alg} signing key, new kid ${key.kid}`);
  return key.kid;
}

const interactionPath = /^\/interaction\/([A-Za-z0-9_-]+)\/?$/;

async function handle(req, res) {
  const url = new URL(req.url, issuer);
  const { pathname } = url;

  if (pathname === '/__control/rotate') {
    if (req.method !== 'POST') return send(res, 405, 'application/json', '{"error":"use POST"}\n');
    return send(res, 200, 'application/json', `${JSON.stringify({ kid: rotate() })}\n`);
  }
  if (pathname === '/__control/stats') {
    if (req.method !== 'GET') return send(res, 405, 'application/json', '{"error":"use GET"}\n');
    return send(res, 200, 'application/json', `${JSON.stringify({ jwks_requests: jwksRequests })}\n`);
  }

  const { provider, callback } = current;
  const interaction = interactionPath.exec(pathname);
  if (interaction) {
    const uid = interaction[1];
    try {
      if (req.method === 'GET') return await showInteraction(provider, req, res, uid);
      if (req.method === 'POST') return await submitInteraction(provider, req, res, uid);
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    } catch (err) {
      console.error(`idp: interaction ${req.method} ${pathname} failed:`, err);
      if (!res.headersSent) {
        return send(res, 400, 'text/plain; charset=utf-8', `interaction failed: ${err.error_description ?? err.message}\n`);
      }
      return res.end();
    }
  }

  if (req.method === 'GET' && pathname === JWKS_PATH) jwksRequests += 1;
  return callback(req, res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error('idp: request failed:', err);
    if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    else res.end();
  });
});

function shutdown(reason) {
  console.error(`idp: exiting (${reason})`);
  server.closeAllConnections?.();
  server.close();
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// Exit when the parent closes our stdin, but only if stdin is a pipe or socket: a
// background shell job gets /dev/null (instant EOF) and a terminal never closes.
try {
  const stat = fs.fstatSync(0);
  if (stat.isFIFO() || stat.isSocket()) {
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('close', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }
} catch {
  // no stdin at all: nothing to watch
}

server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${options.port}: ${err.message}`));
server.listen(options.port, '127.0.0.1', () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  current = makeProvider(issuer);
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
  console.error(`idp: listening, issuer ${issuer}, resources ${options.resources.join(' ')}, alg ${options.alg}`);
});
