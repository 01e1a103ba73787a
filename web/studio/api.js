// The public API as the page uses it: JSON in and out, problems as errors, the token pair kept
// and refreshed quietly (once per expiry, shared by every caller that needs it).

const SESSION_KEY = "pingvas.session";

/** An RFC 9457 problem the API answered (or one made up for a failure that had none). */
export class ApiProblem extends Error {
  constructor(status, body) {
    const title = (body && body.title) || (status ? `Request failed (${status})` : "Network error");
    super(title);
    this.status = status;
    this.type = (body && body.type) || "about:blank";
    this.slug = this.type.split("/problems/").pop(); // the stable part clients switch on
    this.title = title;
    this.detail = (body && body.detail) || "";
    this.errors = (body && body.errors) || null;
    this.requestId = (body && body.request_id) || null;
  }
}

let session = load();
let refreshing = null;
const listeners = new Set();

function load() {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY)) || null;
  } catch {
    return null;
  }
}

function store(next) {
  session = next;
  if (next) localStorage.setItem(SESSION_KEY, JSON.stringify(next));
  else localStorage.removeItem(SESSION_KEY);
  for (const listener of listeners) listener(next);
}

/** Called with the session (or null) whenever it changes, also from another tab. */
export function onSessionChange(listener) {
  listeners.add(listener);
}
window.addEventListener("storage", (event) => {
  if (event.key !== SESSION_KEY) return;
  session = load();
  for (const listener of listeners) listener(session);
});

export function currentSession() {
  return session;
}

/** Keeps a token pair answered by signup, login, refresh or an OAuth callback. */
export function acceptTokens(pair) {
  store({
    access: pair.access_token,
    refresh: pair.refresh_token,
    expiresAt: Date.now() + (pair.expires_in || 900) * 1000,
    user: pair.user || (session && session.user) || null,
  });
}

export function forgetSession() {
  store(null);
}

/** A fresh pair from the refresh token; one request however many callers ask at once. */
export function refreshTokens() {
  if (!session) return Promise.reject(new ApiProblem(401, { title: "Signed out", detail: "Sign in again." }));
  if (!refreshing) {
    const token = session.refresh;
    refreshing = send("POST", "/api/v1/auth/refresh", { body: { refresh_token: token }, auth: false })
      .then((pair) => acceptTokens(pair))
      .catch((problem) => {
        // Another tab may have rotated the pair already; only a refused token ends the session.
        const latest = load();
        if (latest && latest.refresh !== token) { session = latest; return; }
        if (problem.status === 401) store(null);
        throw problem;
      })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** The access token, refreshed first when it expires within a minute. */
export async function accessToken() {
  if (!session) return null;
  if (Date.now() > session.expiresAt - 60_000) await refreshTokens();
  return session ? session.access : null;
}

async function send(method, path, { body, headers = {}, auth = true, raw = false, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (auth) {
    const token = await accessToken();
    if (token) init.headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiProblem(0, { title: "Network error", detail: "The studio could not reach the server. Check the connection and try again." });
  }
  if (response.ok) {
    if (raw) return response;
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
  throw await problemOf(response);
}

/** The problem in an error response, whatever its body. */
export async function problemOf(response) {
  let body = null;
  try {
    const text = await response.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!body || typeof body !== "object") {
    body = { title: `Request failed (${response.status} ${response.statusText || ""})`.trim() };
  }
  return new ApiProblem(response.status, body);
}

/**
 * A call to the API. With a session, an expired access token is refreshed before the call, and a
 * 401 `invalid-token` is answered by one refresh and one retry.
 */
export async function api(method, path, options = {}) {
  try {
    return await send(method, path, options);
  } catch (problem) {
    const canRetry = options.auth !== false && session && problem instanceof ApiProblem && problem.status === 401;
    if (!canRetry) throw problem;
    await refreshTokens();
    return send(method, path, options);
  }
}

/** A fresh Idempotency-Key: one per user intent, reused when the same intent is sent again. */
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const objectURLs = new Map();

/**
 * An object URL for an image the API serves (`/api/v1/images/{id}/content` or `/thumbnail`);
 * fetched with the token, since private images need it and an <img> cannot send one.
 */
export async function imageURL(path) {
  if (objectURLs.has(path)) return objectURLs.get(path);
  const response = await api("GET", path, { raw: true, headers: { Accept: "image/png" } });
  const url = URL.createObjectURL(await response.blob());
  objectURLs.set(path, url);
  return url;
}

export function dropImageURL(path) {
  const url = objectURLs.get(path);
  if (url) URL.revokeObjectURL(url);
  objectURLs.delete(path);
}
