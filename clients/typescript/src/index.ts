/**
 * A typed client for obfbroker's HTTP API: openapi-fetch over the types that `npm run generate`
 * writes to schema.ts from the service's OpenAPI document. Paths, parameters, bodies and answers
 * are checked by the compiler; every call resolves to `{ data, error, response }`.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

export interface ObfBrokerClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The deployment's base URL, e.g. `https://broker.example.com` (without `/api/v1`). */
  baseUrl: string;
  /** The account's API key (`obf_live_...`), sent as `Authorization: Token <key>`. */
  apiKey: string;
}

export type ObfBrokerClient = Client<paths>;

/** A client whose every request carries the account's API key. */
export function createObfBrokerClient({ baseUrl, apiKey, ...options }: ObfBrokerClientOptions): ObfBrokerClient {
  const client = createClient<paths>({ ...options, baseUrl: baseUrl.replace(/\/+$/, "") });
  client.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Token ${apiKey}`);
      return request;
    },
  });
  return client;
}

/** The body of every error answer: a human message, a stable snake_case code, and `message`
 * (the same text as `detail`, for clients written for MeetStream's API). */
export interface ApiError {
  detail: string;
  code: string;
  message: string;
}

/** Whether an answer's body (e.g. a call's `error`) is one of the API's errors. */
export function isApiError(body: unknown): body is ApiError {
  if (typeof body !== "object" || body === null) return false;
  const { detail, code, message } = body as Record<string, unknown>;
  return typeof detail === "string" && typeof code === "string" && typeof message === "string";
}
