#!/usr/bin/env node
// Hosts a Client ID Metadata Document over https on 127.0.0.1, for the interop
// tests of clients identified by URL (the MCP SDKs require an https client_id).
//
//   node cimd-host.mjs --cert leaf.pem --key leaf.key --redirect-uri <uri> [--name "…"]
//
// It listens on a free port of 127.0.0.1 and prints one JSON line on stdout,
// {"client_id":"https://127.0.0.1:PORT/client-metadata.json"}, then serves at
// that path the document whose client_id is that URL: the name, the redirect
// URI, the code and refresh grants, public (token_endpoint_auth_method none).
// Every request is logged on stderr as `cimd-host: GET /path`. Anything else
// is 404. It runs until killed.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    'redirect-uri': { type: 'string' },
    name: { type: 'string', default: 'mcp-auth interop (TS SDK, CIMD)' },
  },
  strict: true,
});
for (const required of ['cert', 'key', 'redirect-uri']) {
  if (!values[required]) {
    console.error(`cimd-host: --${required} is required`);
    process.exit(2);
  }
}

const PATH = '/client-metadata.json';
let document;

const server = createServer({ cert: readFileSync(values.cert), key: readFileSync(values.key) }, (req, res) => {
  console.error(`cimd-host: ${req.method} ${req.url}`);
  if (req.method !== 'GET' || req.url !== PATH) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
  res.end(JSON.stringify(document));
});

server.listen(0, '127.0.0.1', () => {
  const clientId = `https://127.0.0.1:${server.address().port}${PATH}`;
  document = {
    client_id: clientId,
    client_name: values.name,
    redirect_uris: [values['redirect-uri']],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  process.stdout.write(`${JSON.stringify({ client_id: clientId })}\n`);
});
