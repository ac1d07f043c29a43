#!/usr/bin/env node
// A headless MCP client that authenticates with the official TypeScript SDK's OAuth
// flow, for the mcp-auth interop tests.
//
//   node mcp-client.mjs --url <mcp url> [--login alice] [--tool whoami]
//                       [--args '<json object>'] [--scope "..."]
//                       [--client-metadata-url https://…/client.json]
//
// With --client-metadata-url the SDK uses its own Client ID Metadata Document
// support (SEP-991): when the authorization server advertises
// client_id_metadata_document_supported, the URL is the client_id and nothing
// is registered. The document at that URL (cimd-host.mjs serves one) must list
// this script's redirect URI.
//
// The SDK does everything an MCP client does: it gets the server's 401, follows
// resource_metadata to the protected-resource metadata, discovers the
// authorization server, registers (RFC 7591), and builds the PKCE authorization
// URL. This script plays the user's browser on that URL (browser.mjs, a generic
// driver: GET, follow redirects by hand with a cookie jar, submit the single form
// of any HTML page with login=<login> and password=x) until the redirect to our
// redirect URI (http://127.0.0.1:53682/callback, never requested), checks state,
// hands the code to the SDK (transport.finishAuth), reconnects, and calls the tool.
//
// Step-up: when the tool call gets the server's 403 `insufficient_scope`, the SDK
// re-authorizes asking for the challenge's `scope`; this script plays the browser
// again and retries the call (at most twice). SDK 1.32 first tries its refresh
// token on a 403, which cannot add scopes; when the retry is refused again the
// script forgets the refresh token (as a client does once refreshing did not
// help) and lets the SDK run its 403 handling again, which then re-authorizes.
// Each re-authorization is listed in "step_ups" with the scope the SDK asked for.
//
// On success: exit 0 and exactly one line of JSON on stdout:
//   {"ok":true,"tool":"whoami","result":{"structuredContent":…,"content":[…]},
//    "sdk_trace":[{"method","url","status"}…],"browser_trace":[…],
//    "token_claims":{…} | null,"client_id":"…"|null,"callback_iss":"…"|null,
//    "tokens":{access_token,refresh_token,token_type,expires_in,scope,…}|null,
//    "step_ups":[{"scope":"…"}…]}
// On failure: exit 1, nothing on stdout, and a message on stderr naming the step
// that failed ("step <name> failed: …") with the HTTP status and a body excerpt.
// The whole run is bounded by a 30 s timeout.

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { browse, BrowserError, excerpt } from './browser.mjs';

const TIMEOUT_MS = 30_000;
const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

// stdout carries the one result line only.
for (const level of ['log', 'info', 'debug', 'warn']) {
  console[level] = (...args) => console.error(...args);
}

class StepError extends Error {
  constructor(step, message, options) {
    super(message, options);
    this.step = step;
  }
}

function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({
    options: {
      url: { type: 'string' },
      login: { type: 'string', default: 'alice' },
      tool: { type: 'string', default: 'whoami' },
      args: { type: 'string', default: '{}' },
      scope: { type: 'string' },
      'client-metadata-url': { type: 'string' },
    },
    strict: true,
    }));
  } catch (e) {
    throw new StepError('arguments', e.message);
  }
  if (!values.url || !URL.canParse(values.url)) throw new StepError('arguments', '--url <absolute MCP URL> is required');
  let args;
  try {
    args = JSON.parse(values.args);
  } catch (e) {
    throw new StepError('arguments', `--args is not JSON: ${e.message}`);
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new StepError('arguments', '--args must be a JSON object');
  }
  return { ...values, args };
}

// ---------------------------------------------------------------------------
// Tracing: every HTTP exchange the SDK makes, and the failed responses' bodies.

const sdkTrace = [];
const browserTrace = [];
const failedBodies = []; // { traceIndex, body } of the SDK's responses >= 400

function requestInfo(input, init) {
  if (input instanceof Request) {
    return { method: (init?.method ?? input.method ?? 'GET').toUpperCase(), url: input.url };
  }
  return { method: (init?.method ?? 'GET').toUpperCase(), url: String(input) };
}

async function tracedFetch(input, init) {
  const { method, url } = requestInfo(input, init);
  let response;
  try {
    response = await fetch(input, init);
  } catch (err) {
    sdkTrace.push({ method, url, status: 0 });
    failedBodies.push({ traceIndex: sdkTrace.length - 1, body: `network error: ${err.cause?.message ?? err.message}` });
    throw err;
  }
  sdkTrace.push({ method, url, status: response.status });
  if (response.status >= 400) {
    const body = await response.clone().text().catch(() => '');
    failedBodies.push({ traceIndex: sdkTrace.length - 1, body: excerpt(body) });
  }
  return response;
}

// ---------------------------------------------------------------------------
// The OAuth client provider the SDK drives: everything in memory.

class MemoryOAuthProvider {
  constructor(scope, clientMetadataUrl) {
    this.scope = scope;
    // Read by the SDK: its URL-based client id when the server supports it.
    this.clientMetadataUrl = clientMetadataUrl;
    this.client = undefined;
    this.savedTokens = undefined;
    this.verifier = undefined;
    this.discovery = undefined;
    this.sentState = undefined;
    this.authorizationUrl = undefined;
  }

  get redirectUrl() {
    return REDIRECT_URI;
  }

  get clientMetadata() {
    return {
      client_name: 'mcp-auth interop (TS SDK)',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...(this.scope ? { scope: this.scope } : {}),
    };
  }

  state() {
    this.sentState = randomBytes(16).toString('base64url');
    return this.sentState;
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info) {
    this.client = info;
  }

  tokens() {
    return this.savedTokens;
  }

  saveTokens(tokens) {
    this.savedTokens = tokens;
  }

  redirectToAuthorization(url) {
    this.authorizationUrl = new URL(url);
  }

  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }

  codeVerifier() {
    if (!this.verifier) throw new Error('no PKCE code verifier saved');
    return this.verifier;
  }

  saveDiscoveryState(state) {
    this.discovery = state;
  }

  discoveryState() {
    return this.discovery;
  }
}

// ---------------------------------------------------------------------------

function decodeJwtPayload(token) {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

function sdkFailure(step, err) {
  // The SDK's last HTTP exchange, with its body when it failed.
  const last = sdkTrace.at(-1);
  let http = '';
  if (last) {
    const failed = failedBodies.at(-1);
    const body = failed && failed.traceIndex === sdkTrace.length - 1 ? `: ${failed.body}` : '';
    http = ` (last HTTP exchange of the SDK: ${last.method} ${last.url} -> ${last.status}${body})`;
  }
  return new StepError(step, `${err?.message ?? err}${http}`, { cause: err });
}

function newClient() {
  return new Client({ name: 'mcp-auth-interop', version: '0.0.0' }, { capabilities: {} });
}

/** Plays the user's browser on the authorization URL the SDK asked for, checks
 * the callback, and has the SDK exchange the code. The `iss` of the callback. */
async function authorizeInBrowser(provider, transport, login) {
  const sentState = provider.authorizationUrl.searchParams.get('state');
  let callback;
  try {
    callback = await browse(provider.authorizationUrl, REDIRECT_URI, { login, trace: browserTrace });
  } catch (err) {
    if (err instanceof BrowserError) throw new StepError('authorize (browser)', err.message);
    throw err;
  }
  const params = callback.searchParams;
  if (params.has('error')) {
    throw new StepError('authorize', `redirected with error=${params.get('error')}`
      + `${params.has('error_description') ? ` error_description=${params.get('error_description')}` : ''}: ${callback.href}`);
  }
  if (sentState !== null && params.get('state') !== sentState) {
    throw new StepError('authorize', `state mismatch: sent ${sentState}, got ${params.get('state')}`);
  }
  const code = params.get('code');
  if (!code) throw new StepError('authorize', `redirect without code: ${callback.href}`);
  // 3. Token request by the SDK.
  try {
    await transport.finishAuth(code);
  } catch (err) {
    throw sdkFailure('token (finishAuth)', err);
  }
  await transport.close().catch(() => {});
  return params.get('iss');
}

async function main() {
  const options = readOptions();
  const serverUrl = new URL(options.url);
  const provider = new MemoryOAuthProvider(options.scope, options['client-metadata-url']);
  const newTransport = () => new StreamableHTTPClientTransport(serverUrl, { authProvider: provider, fetch: tracedFetch });

  // 1. Connect without a token: the SDK gets the 401 and runs discovery,
  //    registration and the authorization request, ending in redirectToAuthorization.
  let client = newClient();
  let transport = newTransport();
  let connected = false;
  let callbackIss = null;
  try {
    await client.connect(transport);
    connected = true;
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw sdkFailure('connect (discovery, registration, authorization request)', err);
  }

  if (!connected) {
    if (!provider.authorizationUrl) {
      throw new StepError('connect', 'the SDK reported Unauthorized without asking for a browser redirect');
    }
    // 2. The user's browser, 3. the code exchange.
    callbackIss = await authorizeInBrowser(provider, transport, options.login);

    // 4. A new connection with the token.
    client = newClient();
    transport = newTransport();
    try {
      await client.connect(transport);
    } catch (err) {
      throw sdkFailure('connect with token', err);
    }
  }

  // 5. The tool call, stepping up on the server's 403 insufficient_scope.
  const stepUps = [];
  let result;
  for (let attempt = 0; ; attempt += 1) {
    provider.authorizationUrl = undefined;
    try {
      result = await client.callTool({ name: options.tool, arguments: options.args });
      break;
    } catch (err) {
      if (attempt >= 2) throw sdkFailure(`tools/call ${options.tool} (after ${attempt} step-up attempts)`, err);
      if (err instanceof UnauthorizedError && provider.authorizationUrl) {
        // The SDK re-authorizes for the challenge's scope: the browser again.
        stepUps.push({ scope: provider.authorizationUrl.searchParams.get('scope') });
        await authorizeInBrowser(provider, transport, options.login);
      } else if (err instanceof StreamableHTTPError && err.code === 403 && provider.savedTokens?.refresh_token) {
        // The SDK refreshed instead, which cannot add scopes: forget the refresh token.
        const { refresh_token: _dropped, ...rest } = provider.savedTokens;
        provider.savedTokens = rest;
        await client.close().catch(() => {});
      } else {
        throw sdkFailure(`tools/call ${options.tool}`, err);
      }
      client = newClient();
      transport = newTransport();
      try {
        await client.connect(transport);
      } catch (e) {
        throw sdkFailure('connect after step-up', e);
      }
    }
  }
  await client.close().catch(() => {});

  const out = {
    ok: true,
    tool: options.tool,
    result: {
      structuredContent: result.structuredContent ?? null,
      content: result.content ?? [],
      ...(result.isError ? { isError: true } : {}),
    },
    sdk_trace: sdkTrace,
    browser_trace: browserTrace,
    token_claims: decodeJwtPayload(provider.savedTokens?.access_token),
    // Extras for the harness (refresh after a key rotation, revocation, ...).
    client_id: provider.client?.client_id ?? null,
    callback_iss: callbackIss, // RFC 9207 `iss` of the authorization response, if any
    tokens: provider.savedTokens ?? null,
    step_ups: stepUps,
  };
  await new Promise((resolve) => { process.stdout.write(`${JSON.stringify(out)}\n`, resolve); });
}

function reportFailure(err) {
  const step = err instanceof StepError ? err.step : 'unexpected error';
  console.error(`mcp-client: step ${step} failed: ${err?.message ?? err}`);
  if (!(err instanceof StepError) && err?.stack) console.error(err.stack);
  console.error(`mcp-client: sdk_trace ${JSON.stringify(sdkTrace)}`);
  console.error(`mcp-client: browser_trace ${JSON.stringify(browserTrace)}`);
}

const timer = setTimeout(() => {
  reportFailure(new StepError('timeout', `no result after ${TIMEOUT_MS / 1000} s`));
  process.exit(1);
}, TIMEOUT_MS);

main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (err) => {
    clearTimeout(timer);
    reportFailure(err);
    process.exit(1);
  },
);
