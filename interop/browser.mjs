// A headless "browser" for OAuth authorization requests, used by mcp-client.mjs
// (and usable by any script of the interop fixture).
//
//   const url = await browse(authorizationUrl, redirectUri, { login, trace });
//
// It GETs the URL, follows redirects by hand (redirect: 'manual') with a cookie
// jar, and on any 200 HTML page submits the page's form (the first, normally the
// only one): its action resolved against the page URL, every hidden input, the
// login in a text input named login/username/user/email/name, "x" in any password
// input, the checked checkboxes plus every grant_scope checkbox (the user grants
// the scopes the client asked for on the dev issuer's consent page), and the
// first approving submit button. It stops, without requesting it,
// at the first URL whose origin and path are those of redirectUri, and returns it
// (the caller reads code, state, error, iss from its query). Every request is
// appended to `trace` as {method, url, status}. Failures throw BrowserError.

const MAX_STEPS = 40;
const EXCERPT = 600;

export class BrowserError extends Error {}

export function excerpt(text) {
  const flat = String(text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT ? `${flat.slice(0, EXCERPT)}…` : flat;
}

export class CookieJar {
  #cookies = new Map(); // `${host}\n${path}\n${name}` -> { host, path, name, value, expires }

  store(requestUrl, response) {
    const url = new URL(requestUrl);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
      let expires;
      for (const attribute of attributes) {
        const [rawKey, ...rest] = attribute.split('=');
        const key = rawKey.trim().toLowerCase();
        const attrValue = rest.join('=').trim();
        if (key === 'path' && attrValue.startsWith('/')) path = attrValue;
        else if (key === 'max-age' && /^-?\d+$/.test(attrValue)) expires = Date.now() + Number(attrValue) * 1000;
        else if (key === 'expires' && expires === undefined) {
          const at = Date.parse(attrValue);
          if (!Number.isNaN(at)) expires = at;
        }
      }
      const id = `${url.hostname}\n${path}\n${name}`;
      if (expires !== undefined && expires <= Date.now()) this.#cookies.delete(id);
      else this.#cookies.set(id, { host: url.hostname, path, name, value, expires });
    }
  }

  header(requestUrl) {
    const url = new URL(requestUrl);
    const now = Date.now();
    const matching = [...this.#cookies.values()]
      .filter((c) => c.host === url.hostname)
      .filter((c) => c.expires === undefined || c.expires > now)
      .filter((c) => url.pathname === c.path
        || (url.pathname.startsWith(c.path) && (c.path.endsWith('/') || url.pathname[c.path.length] === '/')))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_m, entity) => {
    const e = entity.toLowerCase();
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e];
  });
}

function attributes(tag) {
  const out = {};
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  const inner = tag.replace(/^<\s*[a-z0-9]+/i, '').replace(/\/?>$/, '');
  for (const m of inner.matchAll(re)) {
    out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

// The single form of a page: its action, method and the fields a user would send
// (hidden inputs, login and password filled in, the first "approve" button).
export function parseForm(html, pageUrl, login) {
  const forms = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form\s*>/gi)].map((m) => m[0]);
  if (forms.length === 0) return undefined;
  const form = forms[0];
  const formAttrs = attributes(form.match(/^<form\b[^>]*>/i)[0]);
  const action = new URL(formAttrs.action || pageUrl, pageUrl);
  const method = (formAttrs.method || 'get').toUpperCase();
  const fields = new URLSearchParams();
  const buttons = [];
  for (const [tag] of form.matchAll(/<(?:input|button)\b[^>]*>/gi)) {
    const a = attributes(tag);
    const isButton = /^<button/i.test(tag);
    const type = (a.type || (isButton ? 'submit' : 'text')).toLowerCase();
    if (type === 'submit' || type === 'image') {
      if (a.name) buttons.push(a);
      continue;
    }
    if (!a.name || 'disabled' in a || type === 'button' || type === 'reset' || type === 'file') continue;
    if (type === 'hidden') fields.append(a.name, a.value ?? '');
    else if (type === 'password') fields.append(a.name, 'x');
    else if (type === 'checkbox' || type === 'radio') {
      // The user grants what the client asks for: the dev issuer offers each
      // scope that needs an explicit grant (admin) as an unchecked grant_scope box.
      if ('checked' in a || (type === 'checkbox' && a.name === 'grant_scope')) fields.append(a.name, a.value ?? 'on');
    } else if (['login', 'username', 'user', 'email', 'name'].includes(a.name.toLowerCase())) {
      fields.append(a.name, a.name.toLowerCase() === 'email' && !login.includes('@') ? `${login}@example.com` : login);
    } else fields.append(a.name, a.value ?? '');
  }
  const approve = buttons.find((b) => /^(approve|allow|accept|consent|continue|yes|confirm|submit)$/i.test(b.value ?? ''))
    ?? buttons[0];
  if (approve) fields.append(approve.name, approve.value ?? '');
  return { action, method, fields, count: forms.length };
}

function isRedirectTarget(url, redirectUri) {
  const target = new URL(redirectUri);
  return url.origin === target.origin && url.pathname === target.pathname;
}

export async function browse(startUrl, redirectUri, { login = 'alice', trace = [] } = {}) {
  const jar = new CookieJar();
  let url = new URL(startUrl);
  let method = 'GET';
  let body;
  for (let step = 0; step < MAX_STEPS; step++) {
    if (isRedirectTarget(url, redirectUri)) return url;
    const headers = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'user-agent': 'mcp-auth-interop-driver' };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    let response;
    try {
      response = await fetch(url, { method, headers, body, redirect: 'manual' });
    } catch (err) {
      trace.push({ method, url: url.href, status: 0 });
      throw new BrowserError(`${method} ${url.href}: network error: ${err.cause?.message ?? err.message}`);
    }
    trace.push({ method, url: url.href, status: response.status });
    jar.store(url, response);

    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (!location) throw new BrowserError(`${method} ${url.href}: ${response.status} without Location`);
      url = new URL(location, url);
      if (!(response.status === 307 || response.status === 308)) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }

    const text = await response.text();
    if (response.status !== 200) {
      throw new BrowserError(`${method} ${url.href}: HTTP ${response.status}: ${excerpt(text)}`);
    }
    const form = parseForm(text, url, login);
    if (!form) {
      throw new BrowserError(`${method} ${url.href}: HTTP 200 page without a form: ${excerpt(text)}`);
    }
    if (form.count > 1) console.error(`mcp-client: ${url.href} has ${form.count} forms, submitting the first`);
    if (form.method === 'POST') {
      url = form.action;
      method = 'POST';
      body = form.fields.toString();
    } else {
      url = form.action;
      for (const [k, v] of form.fields) url.searchParams.append(k, v);
      method = 'GET';
      body = undefined;
    }
  }
  throw new BrowserError(`no redirect to ${redirectUri} after ${MAX_STEPS} requests`);
}
