// Minimal Zoom OAuth callback for obfbroker (Node 20, standard library only).
//
//   GET /connect?user=<your end-user id>  -> asks obfbroker for the Zoom authorize URL
//                                            (state = your end-user id) and redirects there
//   GET /zoom/oauth/callback?code&state    -> Zoom sends the browser here after consent; we call
//                                            POST /api/v1/zoom/oauth/connections (connection-create)
//   GET /healthz                           -> "ok"
//
// Run:  OBFBROKER_API_KEY=obf_live_... node server.js

import http from 'node:http';
import { URL } from 'node:url';

// ---- Configuration (environment variables) ---------------------------------------------------
const API_URL = (process.env.OBFBROKER_API_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
const API_KEY = process.env.OBFBROKER_API_KEY;
// Must match, byte for byte, the redirect URL registered in your Zoom app. It is sent unchanged
// to authorize-url AND to connection-create.
const REDIRECT_URI = process.env.REDIRECT_URI || 'http://127.0.0.1:5006/zoom/oauth/callback';
const PORT = Number(process.env.PORT || 5006);
const HOST = process.env.HOST || '127.0.0.1';
const CALLBACK_PATH = new URL(REDIRECT_URI).pathname;

if (!API_KEY) {
  console.error('OBFBROKER_API_KEY is not set. Start with: OBFBROKER_API_KEY=obf_live_... node server.js');
  process.exit(1);
}

// ---- Helpers ---------------------------------------------------------------------------------

// Call the obfbroker API. Returns { ok, status, body } and never throws on HTTP errors.
async function callApi(method, path, jsonBody) {
  const headers = { Authorization: `Token ${API_KEY}`, Accept: 'application/json' };
  if (jsonBody !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(API_URL + path, {
      method,
      headers,
      body: jsonBody === undefined ? undefined : JSON.stringify(jsonBody),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    return { ok: false, status: 0, body: { code: 'api_unreachable', detail: `obfbroker at ${API_URL} is unreachable (${err.name})` } };
  }
  let body;
  try {
    body = await response.json();
  } catch {
    body = { code: 'bad_response', detail: `obfbroker answered ${response.status} without JSON` };
  }
  return { ok: response.ok, status: response.status, body };
}

const escapeHtml = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => (
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

function sendPage(res, status, title, bodyHtml) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>`);
}

// An error page; `apiError` is obfbroker's error body ({detail, code, message}) when there is one.
function sendError(res, status, title, message, apiError) {
  let html = `<p>${escapeHtml(message)}</p>`;
  if (apiError) {
    html += `<p>obfbroker said: <strong>${escapeHtml(apiError.detail ?? apiError.message)}</strong>`
      + ` (code <code>${escapeHtml(apiError.code)}</code>)</p>`;
  }
  sendPage(res, status, title, html);
}

// 4xx from obfbroker (bad code, redirect_uri mismatch, ...) -> 400; 5xx or unreachable -> 502.
const statusFor = (apiStatus) => (apiStatus >= 400 && apiStatus < 500 ? 400 : 502);

// ---- Routes ----------------------------------------------------------------------------------

// Step 2.1: start the OAuth flow for one end-user.
async function connect(req, res, query) {
  const user = query.get('user');
  if (!user) return sendError(res, 400, 'Missing user', 'Call /connect?user=<your end-user id>.');
  const params = new URLSearchParams({ redirect_uri: REDIRECT_URI, state: user });
  const api = await callApi('GET', `/api/v1/zoom/oauth/authorize-url?${params}`);
  if (!api.ok) {
    console.error(`authorize-url failed for ${user}: ${api.status} ${api.body.code}`);
    return sendError(res, statusFor(api.status), 'Could not start the Zoom connection',
      'obfbroker did not return an authorize URL.', api.body);
  }
  res.writeHead(302, { Location: api.body.authorize_url });
  res.end();
}

// Step 2.3: Zoom redirected the browser here with ?code=...&state=...
async function callback(req, res, query) {
  const state = query.get('state') || '';
  // In production, also check that `state` belongs to the signed-in user (CSRF protection).
  if (query.get('error')) {
    console.error(`zoom returned error=${query.get('error')} for ${state}`);
    return sendError(res, 400, 'Zoom connection not completed',
      `Zoom returned error "${query.get('error')}" (for example, the user clicked Deny). `
      + 'Nothing was connected; you can try again.');
  }
  const code = query.get('code');
  if (!code) return sendError(res, 400, 'Missing code', 'The callback URL has no "code" parameter.');

  const api = await callApi('POST', '/api/v1/zoom/oauth/connections', {
    code,
    redirect_uri: REDIRECT_URI, // the exact same string as in authorize-url
    metadata: { tenant_user_id: state },
  });
  if (!api.ok) {
    // Never log the code or the API key.
    console.error(`connection-create failed for ${state}: ${api.status} ${api.body.code}`);
    return sendError(res, statusFor(api.status), 'Zoom connection failed',
      'obfbroker could not complete the connection.', api.body);
  }
  const c = api.body;
  // Production: save c.zoom_user_id against your end-user (state) in your own database; pass it
  // as zoom.zoom_oauth_connection_user_id when creating bots for this user.
  console.log(`connected ${state} -> ${c.zoom_user_id}`);
  sendPage(res, 200, 'Zoom connected', '<dl>'
    + `<dt>zoom_user_id</dt><dd id="zoom_user_id">${escapeHtml(c.zoom_user_id)}</dd>`
    + `<dt>email</dt><dd id="email">${escapeHtml(c.email)}</dd>`
    + `<dt>display_name</dt><dd id="display_name">${escapeHtml(c.display_name)}</dd>`
    + `<dt>state</dt><dd id="state">${escapeHtml(state)}</dd>`
    + '</dl>');
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host || 'localhost'}`);
  try {
    if (req.method !== 'GET') return sendError(res, 405, 'Method not allowed', 'Only GET is supported.');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('ok');
    }
    if (url.pathname === '/connect') return await connect(req, res, url.searchParams);
    if (url.pathname === CALLBACK_PATH) return await callback(req, res, url.searchParams);
    sendError(res, 404, 'Not found', `No page at ${url.pathname}.`);
  } catch (err) {
    console.error(`unexpected error on ${url.pathname}: ${err.name}`);
    if (!res.headersSent) sendError(res, 500, 'Internal error', 'Something went wrong.');
  }
});

server.listen(PORT, HOST, () => {
  console.log(`listening on http://${HOST}:${PORT} (callback ${REDIRECT_URI}, obfbroker ${API_URL})`);
});

// Stop cleanly on Ctrl-C / SIGTERM.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
