// Uses the client against a running obfbroker as a customer's backend would, and prints what it
// got as one JSON object (tests/client/test_typescript_client.py runs it and checks the answers).
// Everything it needs comes from the environment: OBFBROKER_URL, OBFBROKER_API_KEY,
// OBFBROKER_PUBLIC_URL (the prefix of the token-link URLs the server hands out), and a Zoom app, a
// user's authorization code and a meeting link made at the Zoom simulator.
import { createObfBrokerClient, isApiError } from "../src/index.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function errorOf(status: number, body: unknown): { status: number; code: string; detail: string } {
  if (!isApiError(body)) throw new Error(`HTTP ${status} without an API error body: ${JSON.stringify(body)}`);
  return { status, code: body.code, detail: body.detail };
}

const baseUrl = env("OBFBROKER_URL");
const redirectUri = env("REDIRECT_URI");
const obf = createObfBrokerClient({ baseUrl, apiKey: env("OBFBROKER_API_KEY") });

const app = await obf.PUT("/api/v1/zoom/oauth/app", {
  body: {
    client_id: env("ZOOM_CLIENT_ID"),
    client_secret: env("ZOOM_CLIENT_SECRET"),
    webhook_secret_token: env("ZOOM_WEBHOOK_SECRET_TOKEN"),
  },
});
if (!app.data) throw new Error(`PUT app: HTTP ${app.response.status}`);

const authorize = await obf.GET("/api/v1/zoom/oauth/authorize-url", {
  params: { query: { redirect_uri: redirectUri, state: "ts-client" } },
});
if (!authorize.data) throw new Error(`authorize-url: HTTP ${authorize.response.status}`);

const created = await obf.POST("/api/v1/zoom/oauth/connections", {
  body: { code: env("ZOOM_CODE"), redirect_uri: redirectUri, metadata: { tenant_user_id: "u_42" } },
});
if (!created.data) throw new Error(`connection-create: HTTP ${created.response.status}`);

const listed = await obf.GET("/api/v1/zoom/oauth/connections", { params: { query: { limit: 10 } } });
if (!listed.data) throw new Error(`list connections: HTTP ${listed.response.status}`);

// A hosted-OBF bot without the user it acts for: the guide's 400.
const bot = await obf.POST("/api/v1/bots/create_bot", {
  body: { meeting_link: env("MEETING_LINK"), bot_name: "TS notes", zoom: { use_zoom_obf: true } },
});
if (bot.data) throw new Error("create_bot without zoom_oauth_connection_user_id was accepted");

const missing = await obf.GET("/api/v1/zoom/oauth/connections/{zoom_user_id}", {
  params: { path: { zoom_user_id: "no-such-user" } },
});
// Token links: a Recall.ai link for the connected user. Its URLs carry the link's secret and are
// in this answer only; nothing below prints them.
const linkBody = { zoom_user_id: created.data.zoom_user_id, platform: "recall" as const,
                   token_types: ["zak" as const], metadata: { bot: "ts-notes" } };
const idempotent = { header: { "Idempotency-Key": "ts-link-1" } };
const link = await obf.POST("/api/v1/zoom/token-links", { params: idempotent, body: linkBody });
if (!link.data) throw new Error(`create token link: HTTP ${link.response.status}`);
const linkId = link.data.id;
const replay = await obf.POST("/api/v1/zoom/token-links", { params: idempotent, body: linkBody });
const zakUrl = link.data.urls["zak"];
if (!zakUrl) throw new Error("the link has no zak URL");
// The platform's bot calls the URL (pointed at this server: the link names the public URL).
const call = await fetch(zakUrl.replace(env("OBFBROKER_PUBLIC_URL"), baseUrl));
const uses = await obf.GET("/api/v1/zoom/token-links/{link_id}/uses", {
  params: { path: { link_id: linkId }, query: { limit: 10 } },
});
if (!uses.data) throw new Error(`token link uses: HTTP ${uses.response.status}`);
const links = await obf.GET("/api/v1/zoom/token-links", {
  params: { query: { zoom_user_id: created.data.zoom_user_id, platform: "recall", limit: 10 } },
});
if (!links.data) throw new Error(`list token links: HTTP ${links.response.status}`);
const thisLink = { params: { path: { link_id: linkId } } };
const read = await obf.GET("/api/v1/zoom/token-links/{link_id}", thisLink);
if (!read.data) throw new Error(`read token link: HTTP ${read.response.status}`);
const revoked = await obf.DELETE("/api/v1/zoom/token-links/{link_id}", thisLink);
if (!revoked.data) throw new Error(`revoke token link: HTTP ${revoked.response.status}`);
const afterRevoke = await obf.GET("/api/v1/zoom/token-links/{link_id}", thisLink);
const noLink = await obf.GET("/api/v1/zoom/token-links/{link_id}", {
  params: { path: { link_id: "tl_nothing" } },
});

const stranger = createObfBrokerClient({ baseUrl, apiKey: "obf_live_not-a-real-key" });
const refused = await stranger.GET("/api/v1/zoom/oauth/app");

console.log(JSON.stringify({
  app: { client_id: app.data.client_id, has_client_secret: app.data.has_client_secret },
  authorize_url: authorize.data.authorize_url,
  connection: { zoom_user_id: created.data.zoom_user_id, state: created.data.state,
                metadata: created.data.metadata },
  listed: listed.data.connections.map((connection) => connection.zoom_user_id),
  bot_error: errorOf(bot.response.status, bot.error),
  not_found: errorOf(missing.response.status, missing.error),
  wrong_key: errorOf(refused.response.status, refused.error),
  token_link: {
    platform: link.data.platform, token_types: link.data.token_types, state: link.data.state,
    metadata: link.data.metadata, url_kinds: Object.keys(link.data.urls).sort(),
    replayed: replay.data?.id === linkId, call_status: call.status,
    uses: uses.data.uses.map((use) => ({ token_type: use.token_type, status: use.status })),
    listed: links.data.token_links.map((listed) => listed.id === linkId),
    read: { uses: read.data.uses, has_urls: "urls" in read.data },
    revoked: revoked.data.message === `Token link ${linkId} revoked`,
    state_after_revoke: afterRevoke.data?.state,
  },
  link_not_found: errorOf(noLink.response.status, noLink.error),
}));
