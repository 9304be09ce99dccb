// Drives the official @supabase/ssr + @supabase/supabase-js packages through scripted
// scenarios and reports every cookie write and HTTP request, so the Rust tests can
// compare our implementation with the real thing.
//
// Usage: node [--experimental-websocket] interop/js/ssr/harness.mjs < scenario.json
// (Node < 22 needs the flag: supabase-js always builds a Realtime client, which wants a
// global WebSocket.)
//
// stdin:  ONE scenario object, or an array of scenarios (run in order, one process).
// stdout: ONE JSON document: the result object, or an array of results in input order.
//         Nothing else is written to stdout; library warnings and logs go to stderr.
//
// ─── Scenario ──────────────────────────────────────────────────────────────────────
// A scenario has a "kind": "client" (the default) or "call".
//
// kind "client": one server client (or several, via newClient) over a cookie jar.
// {
//   "url": "http://127.0.0.1:54321",      // project URL (storage key sb-127-auth-token)
//   "key": "anon-key",                     // API key
//   "cookieOptions": {...},                // optional, passed through (domain, secure, name...)
//   "cookieEncoding": "base64url" | "raw", // optional
//   "cookies": {...},                      // optional extra keys of the cookies option
//                                          //   (e.g. {"encode": "tokens-only"})
//   "auth": {...},                         // optional auth options (JSON-able ones only)
//   "jar": [[name, value], ...],           // the request's cookies, in header order
//   "cookieHeader": "a=1; b=2",            // alternative to "jar": a browser's Cookie
//                                          //   header, parsed with parseCookieHeader
//   "now": 1800000000000,                  // optional: Date.now() is frozen at this epoch ms
//                                          //   and moves only with {"op":"advanceClock"}
//                                          //   and fast timers
//   "fastTimers": true,                    // with "now" (default true): setTimeout fires
//                                          //   at once and advances the clock by its
//                                          //   delay, so auth-js's retry backoff (8 tries,
//                                          //   ~25 s) is instant and still timed right;
//                                          //   false: real sleeps on a clock that stays put
//   "seed": 42,                            // optional: crypto.getRandomValues becomes a
//                                          //   seeded generator (PKCE verifier, flow id)
//   "responses": [                         // served in order to the client's fetch
//     {"status": 200, "headers": {...}, "body": <JSON value, or a string sent as is>}
//     | {"networkError": "message"}        // fetch rejects with TypeError(message), as
//                                          //   Node's fetch does when a connection fails
//   ],                                     // when exhausted: 418 {"code":"harness_no_response"}
//   "live": true,                          // optional: no canned responses; fetch goes to
//                                          //   the network (a local Auth server at "url",
//                                          //   e.g. the emulator). Each recorded request
//                                          //   then also has "status" (the answer's) or
//                                          //   "failed" (the message fetch rejected with)
//   "steps": [ <step>, ... ],
//   "stepTimeoutMs": 60000                 // optional
// }
//
// The jar behaves like a browser behind a proxy that feeds writes back into the
// request: getAll returns the jar; setAll applies each cookie in order (Max-Age=0
// deletes every cookie of that name; otherwise the first cookie of that name gets the
// new value and later duplicates are dropped, or the cookie is appended at the end).
//
// Steps ({"op": ..., ...arguments}):
//   signInWithPassword {email | phone, password, options?}
//   signInWithOtp      {email | phone, emailRedirectTo?, shouldCreateUser?, data?,
//                       captchaToken?, options?}   (options wins when given)
//   signInWithOAuth    {provider, options?}
//   verifyOtp          {...params}                  (the step minus "op" is the params)
//   exchangeCodeForSession {code, flowId?}
//   resetPasswordForEmail  {email, options?}
//   getSession | getUser {jwt?} | getClaims {jwt?, options?}
//   refreshSession {refresh_token?} | setSession {access_token, refresh_token}
//   updateUser {...attributes, options?}  (the step minus "op" and "options" is the
//                              attributes, e.g. {"op":"updateUser","data":{...}})
//   signOut {scope?}           ("local" | "global" | "others"; omitted = auth-js default)
//   mfaEnroll {factorType, friendlyName?, issuer?} | mfaChallenge {factorId}
//   mfaVerify {factorId, challengeId, code} | mfaChallengeAndVerify {factorId, code}
//   mfaUnenroll {factorId} | mfaListFactors   (auth.mfa.*; the step minus "op" is the
//                              params)
//   newClient {jar? | cookieHeader?, cookieOptions?, cookieEncoding?}
//                              a fresh createServerClient over the jar (a new request);
//                              its construction-time work is recorded in this step
//   setJar {jar | cookieHeader} replace the jar (no client change)
//   advanceClock {ms}          move the frozen clock
//   Any step may carry "responses": [...] appended to the queue before it runs.
//
// Before the first step and in newClient, the harness waits until the client's
// construction-time INITIAL_SESSION work (which may refresh an expired session) has
// settled; that work is reported in "init" (first client) or in the newClient step.
//
// ─── Result (kind "client") ────────────────────────────────────────────────────────
// {
//   "storageKey": "sb-127-auth-token",
//   "init":  <record>,
//   "steps": [ {"op": ..., "result": ..., "sessionJson"?: ..., ...<record>} ],
//   "unusedResponses": n                   // canned responses never requested
// }
// <record> = {
//   "setAll":   [ {"cookies": [{"name","value","options","header"}], "headers": {...}} ],
//               // header = serializeCookieHeader(name, value, options)
//   "requests": [ {"method","url","headers": {lowercased: value},"body": text|null} ],
//   "events":   [ {"event": "SIGNED_IN", "session": true} ],
//   "jarAfter": [[name, value], ...],
//   "itemsAfter": {storage item: decoded value}   // items under the storage key, read
//               // from jarAfter with @supabase/ssr's own combineChunks + base64url decode
//   "pkce":     {"verifier": <K-code-verifier> | null, "flowIds": <K-flows-code-verifier> | null}
//               // (with "seed", both are the same on every run)
// }
// "result" is {"data": <JSON-able data>, "error": null | {"name","message","status","code"}}
// or {"thrown": {"name","message"}} when the call threw. Byte arrays become base64url
// strings. "sessionJson" is JSON.stringify(data.session) when the result holds a
// session: byte for byte what auth-js stores. Anywhere in the output, a string holding
// a lone surrogate (it has no UTF-8 form) becomes {"$utf16": [code units]}.
//
// ─── kind "call" ───────────────────────────────────────────────────────────────────
// {"kind": "call", "calls": [{"fn": name, "args": [...]}, ...]}
//   -> {"results": [ {"ok": value} | {"error": {"name","message"}} ]}
// fn: parseCookieHeader, serializeCookieHeader, encodeURIComponent, decodeURIComponent,
//     createChunks, combineChunks (args: key, [[name, value], ...]), isChunkLike,
//     stringToBase64URL, stringFromBase64URL, jsonStringify (JSON.stringify(JSON.parse(s))).
//
// A scenario that cannot run at all (bad input, a throwing constructor) gives
// {"error": {"name","message","stack"}} in its place.
//
// Process-wide state is not reset between scenarios of one batch: auth-js keeps its JWKS
// cache per storage key for the whole process, like a real server would.

import {
  createServerClient,
  parseCookieHeader,
  serializeCookieHeader,
  createChunks,
  combineChunks,
  isChunkLike,
  stringToBase64URL,
  stringFromBase64URL,
} from "@supabase/ssr";
import { setAllRecord } from "./set-all-record.mjs";

// Keep stdout for the result only.
for (const level of ["log", "info", "debug", "trace"]) {
  console[level] = (...args) => console.error(...args);
}

const BASE64_PREFIX = "base64-";

// ─── Clock and randomness ──────────────────────────────────────────────────────────

const realDateNow = Date.now;
const realFetch = globalThis.fetch;
const realSetTimeout = globalThis.setTimeout;
const realGetRandomValues = globalThis.crypto.getRandomValues.bind(globalThis.crypto);

const clock = {
  frozen: null,
  advance(ms) {
    if (this.frozen !== null) this.frozen += ms;
  },
};

function installClock(scenario) {
  clock.frozen = typeof scenario.now === "number" ? scenario.now : null;
  Date.now = () => (clock.frozen !== null ? clock.frozen : realDateNow());
  if (clock.frozen !== null && scenario.fastTimers !== false) {
    globalThis.setTimeout = (fn, ms, ...args) =>
      realSetTimeout(() => {
        clock.advance(Number(ms) || 0);
        fn(...args);
      }, 0);
  } else {
    globalThis.setTimeout = realSetTimeout;
  }
}

// xoshiro128** seeded through splitmix32: small, fast and the same everywhere.
function seededBytes(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const st = [split(), split(), split(), split()];
  const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = () => {
    const result = Math.imul(rotl(Math.imul(st[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (st[1] << 9) >>> 0;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 11);
    return result;
  };
  return (view) => {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    for (let i = 0; i < bytes.length; i += 4) {
      const r = next();
      for (let j = 0; j < 4 && i + j < bytes.length; j++) bytes[i + j] = (r >>> (8 * j)) & 0xff;
    }
    return view;
  };
}

function installRandom(scenario) {
  globalThis.crypto.getRandomValues =
    typeof scenario.seed === "number" ? seededBytes(scenario.seed) : realGetRandomValues;
}

// ─── JSON-able summaries ───────────────────────────────────────────────────────────

function bytesToBase64Url(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

function errorSummary(e) {
  if (e === null || e === undefined) return null;
  return {
    name: e?.name ?? null,
    message: e?.message ?? String(e),
    status: e?.status ?? null,
    code: e?.code ?? null,
  };
}

function plain(value, depth = 0) {
  if (depth > 64) return "<too deep>";
  if (value === null || value === undefined) return null;
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object") return value;
  if (ArrayBuffer.isView(value)) return bytesToBase64Url(value);
  if (value instanceof ArrayBuffer) return bytesToBase64Url(new Uint8Array(value));
  if (value instanceof Error) return errorSummary(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1) ?? null);
  const out = {};
  let keys;
  try {
    keys = Object.keys(value);
  } catch (e) {
    return `<unavailable: ${e?.message ?? e}>`;
  }
  for (const k of keys) {
    let v;
    try {
      v = plain(value[k], depth + 1);
    } catch (e) {
      v = `<unavailable: ${e?.message ?? e}>`;
    }
    if (v !== undefined) out[k] = v;
  }
  return out;
}

// ─── Fetch ─────────────────────────────────────────────────────────────────────────

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

function makeFetch(state) {
  return async (input, init = {}) => {
    const isRequest = typeof input === "object" && input !== null && "url" in input;
    const url = isRequest ? input.url : String(input);
    const method = (init.method ?? (isRequest ? input.method : "GET")).toUpperCase();
    const headers = {};
    const merged = new Headers(isRequest ? input.headers : undefined);
    new Headers(init.headers ?? undefined).forEach((v, k) => merged.set(k, v));
    merged.forEach((v, k) => {
      headers[k] = v;
    });
    let body = null;
    if (init.body !== undefined && init.body !== null) {
      body = typeof init.body === "string" ? init.body : String(init.body);
    } else if (isRequest && input.body) {
      body = await input.text();
    }
    const recorded = { method, url, headers, body };
    state.record.requests.push(recorded);

    if (state.scenario.live === true) {
      try {
        const response = await realFetch(input, init);
        recorded.status = response.status;
        return response;
      } catch (e) {
        recorded.failed = e?.message ?? String(e);
        throw e;
      }
    }
    if (typeof state.responses[0]?.networkError === "string") {
      throw new TypeError(state.responses.shift().networkError);
    }
    const canned = state.responses.shift() ?? {
      status: 418,
      body: { code: "harness_no_response", msg: "the harness has no canned response left" },
    };
    const status = canned.status ?? 200;
    const respHeaders = { ...(canned.headers ?? {}) };
    let text = null;
    if (!NULL_BODY_STATUS.has(status) && canned.body !== undefined && canned.body !== null) {
      if (typeof canned.body === "string") {
        text = canned.body;
      } else {
        text = JSON.stringify(canned.body);
        if (!Object.keys(respHeaders).some((h) => h.toLowerCase() === "content-type")) {
          respHeaders["content-type"] = "application/json";
        }
      }
    }
    return new Response(text, { status, headers: respHeaders });
  };
}

// ─── Jar ───────────────────────────────────────────────────────────────────────────

function applyToJar(jar, cookies) {
  for (const { name, value, options } of cookies) {
    const first = jar.findIndex(([n]) => n === name);
    if (options?.maxAge === 0) {
      for (let i = jar.length - 1; i >= 0; i--) if (jar[i][0] === name) jar.splice(i, 1);
    } else if (first === -1) {
      jar.push([name, value]);
    } else {
      jar[first] = [name, value];
      for (let i = jar.length - 1; i > first; i--) if (jar[i][0] === name) jar.splice(i, 1);
    }
  }
}

async function decodeItem(jar, key) {
  const combined = await combineChunks(key, async (chunk) => {
    const found = jar.find(([n]) => n === chunk);
    return found ? found[1] : null;
  });
  if (!combined) return null;
  if (!combined.startsWith(BASE64_PREFIX)) return combined;
  try {
    return stringFromBase64URL(combined.substring(BASE64_PREFIX.length));
  } catch (e) {
    return null;
  }
}

async function itemsUnder(jar, storageKey) {
  const keys = [];
  for (const [name] of jar) {
    if (!name.startsWith(storageKey)) continue;
    const m = /^(.*)[.](0|[1-9][0-9]*)$/.exec(name);
    const key = m ? m[1] : name;
    if (!keys.includes(key)) keys.push(key);
  }
  const out = {};
  for (const key of keys) out[key] = await decodeItem(jar, key);
  return out;
}

// The pending PKCE verifier (legacy key) and flow ids (index), decoded from the jar.
function pkceOf(items, storageKey) {
  const parse = (text) => {
    try {
      return text === null || text === undefined ? null : JSON.parse(text);
    } catch {
      return null;
    }
  };
  return {
    verifier: parse(items[`${storageKey}-code-verifier`]),
    flowIds: parse(items[`${storageKey}-flows-code-verifier`]),
  };
}

// ─── Client scenarios ──────────────────────────────────────────────────────────────

function initialJar(spec) {
  if (typeof spec.cookieHeader === "string") {
    return parseCookieHeader(spec.cookieHeader).map(({ name, value }) => [name, value]);
  }
  return Array.isArray(spec.jar) ? spec.jar.map(([n, v]) => [n, v]) : null;
}

function newRecord() {
  return { setAll: [], requests: [], events: [] };
}

async function settle() {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = realSetTimeout(() => {
      const e = new Error(`${what} did not finish within ${ms} ms`);
      e.name = "HarnessTimeout";
      reject(e);
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function buildClient(state, overrides = {}) {
  const cookieOptions = overrides.cookieOptions ?? state.scenario.cookieOptions;
  const cookieEncoding = overrides.cookieEncoding ?? state.scenario.cookieEncoding;
  const options = {
    cookies: {
      ...(state.scenario.cookies ?? {}),
      getAll: () => state.jar.map(([name, value]) => ({ name, value })),
      setAll: (cookies, headers) => {
        state.record.setAll.push(setAllRecord(cookies, headers));
        applyToJar(state.jar, cookies);
      },
    },
    global: { fetch: makeFetch(state) },
  };
  if (cookieOptions !== undefined) options.cookieOptions = cookieOptions;
  if (cookieEncoding !== undefined) options.cookieEncoding = cookieEncoding;
  if (state.scenario.auth !== undefined) options.auth = state.scenario.auth;

  const client = createServerClient(state.scenario.url, state.scenario.key, options);
  let initialSeen;
  const initial = new Promise((resolve) => {
    initialSeen = resolve;
  });
  // Registered last, so its INITIAL_SESSION comes after the ssr listener's: by then any
  // construction-time refresh (single flight, subscribers awaited) has written cookies.
  client.auth.onAuthStateChange((event, session) => {
    state.record.events.push({ event, session: session !== null && session !== undefined });
    if (event === "INITIAL_SESSION") initialSeen();
  });
  await withTimeout(initial, state.stepTimeoutMs, "INITIAL_SESSION");
  await settle();
  state.client = client;
  state.storageKey = client.auth.storageKey;
}

function otpCredentials(step) {
  if (step.options) {
    const { op: _op, responses: _r, ...rest } = step;
    return rest;
  }
  const { email, phone, emailRedirectTo, shouldCreateUser, data, captchaToken, channel } = step;
  const options = {};
  if (emailRedirectTo !== undefined) options.emailRedirectTo = emailRedirectTo;
  if (shouldCreateUser !== undefined) options.shouldCreateUser = shouldCreateUser;
  if (data !== undefined) options.data = data;
  if (captchaToken !== undefined) options.captchaToken = captchaToken;
  if (channel !== undefined) options.channel = channel;
  return { ...(email !== undefined ? { email } : { phone }), options };
}

function argsOf(step) {
  const { op: _op, responses: _r, ...rest } = step;
  return rest;
}

const OPS = {
  signInWithPassword: (c, s) => c.auth.signInWithPassword(argsOf(s)),
  signInWithOtp: (c, s) => c.auth.signInWithOtp(otpCredentials(s)),
  signInWithOAuth: (c, s) => c.auth.signInWithOAuth(argsOf(s)),
  verifyOtp: (c, s) => c.auth.verifyOtp(argsOf(s)),
  exchangeCodeForSession: (c, s) =>
    s.flowId !== undefined
      ? c.auth.exchangeCodeForSession(s.code, { flowId: s.flowId })
      : c.auth.exchangeCodeForSession(s.code),
  resetPasswordForEmail: (c, s) => c.auth.resetPasswordForEmail(s.email, s.options),
  getSession: (c) => c.auth.getSession(),
  getUser: (c, s) => (s.jwt !== undefined ? c.auth.getUser(s.jwt) : c.auth.getUser()),
  getClaims: (c, s) => c.auth.getClaims(s.jwt, s.options),
  refreshSession: (c, s) =>
    s.refresh_token !== undefined
      ? c.auth.refreshSession({ refresh_token: s.refresh_token })
      : c.auth.refreshSession(),
  setSession: (c, s) =>
    c.auth.setSession({ access_token: s.access_token, refresh_token: s.refresh_token }),
  updateUser: (c, s) => {
    const { options, ...attributes } = argsOf(s);
    return options !== undefined ? c.auth.updateUser(attributes, options) : c.auth.updateUser(attributes);
  },
  signOut: (c, s) => (s.scope !== undefined ? c.auth.signOut({ scope: s.scope }) : c.auth.signOut()),
  mfaEnroll: (c, s) => c.auth.mfa.enroll(argsOf(s)),
  mfaChallenge: (c, s) => c.auth.mfa.challenge(argsOf(s)),
  mfaVerify: (c, s) => c.auth.mfa.verify(argsOf(s)),
  mfaChallengeAndVerify: (c, s) => c.auth.mfa.challengeAndVerify(argsOf(s)),
  mfaUnenroll: (c, s) => c.auth.mfa.unenroll(argsOf(s)),
  mfaListFactors: (c) => c.auth.mfa.listFactors(),
};

function sessionJsonOf(result) {
  const session = result?.data?.session;
  if (session === null || session === undefined || typeof session !== "object") return undefined;
  try {
    return JSON.stringify(session);
  } catch (e) {
    return `<unavailable: ${e?.message ?? e}>`;
  }
}

async function finishRecord(state, record) {
  await settle();
  record.jarAfter = state.jar.map(([n, v]) => [n, v]);
  record.itemsAfter = state.storageKey ? await itemsUnder(state.jar, state.storageKey) : {};
  record.pkce = pkceOf(record.itemsAfter, state.storageKey);
  return record;
}

async function runStep(state, step) {
  const record = newRecord();
  state.record = record;
  const out = { op: step.op };
  if (Array.isArray(step.responses)) state.responses.push(...step.responses);
  try {
    if (step.op === "newClient") {
      state.jar = initialJar(step) ?? state.jar;
      await buildClient(state, step);
      out.result = { data: null, error: null };
    } else if (step.op === "setJar") {
      state.jar = initialJar(step) ?? [];
      out.result = { data: null, error: null };
    } else if (step.op === "advanceClock") {
      clock.advance(Number(step.ms) || 0);
      out.result = { data: { now: Date.now() }, error: null };
    } else if (OPS[step.op]) {
      const raw = await withTimeout(OPS[step.op](state.client, step), state.stepTimeoutMs, step.op);
      out.result = { data: plain(raw?.data ?? null), error: errorSummary(raw?.error) };
      const sessionJson = sessionJsonOf(raw);
      if (sessionJson !== undefined) out.sessionJson = sessionJson;
    } else {
      throw new Error(`unknown op: ${step.op}`);
    }
  } catch (e) {
    out.result = { thrown: { name: e?.name ?? "Error", message: e?.message ?? String(e) } };
  }
  return Object.assign(out, await finishRecord(state, record));
}

async function runClientScenario(scenario) {
  installClock(scenario);
  installRandom(scenario);
  const state = {
    scenario,
    jar: initialJar(scenario) ?? [],
    responses: [...(scenario.responses ?? [])],
    stepTimeoutMs: scenario.stepTimeoutMs ?? 60000,
    record: newRecord(),
    client: null,
    storageKey: null,
  };
  const init = state.record;
  await buildClient(state);
  const result = { storageKey: state.storageKey, init: await finishRecord(state, init), steps: [] };
  for (const step of scenario.steps ?? []) {
    result.steps.push(await runStep(state, step));
  }
  result.unusedResponses = state.responses.length;
  return result;
}

// ─── Call scenarios ────────────────────────────────────────────────────────────────

const CALLS = {
  parseCookieHeader: (header) => parseCookieHeader(header),
  serializeCookieHeader: (name, value, options) => serializeCookieHeader(name, value, options),
  encodeURIComponent: (s) => encodeURIComponent(s),
  decodeURIComponent: (s) => decodeURIComponent(s),
  createChunks: (key, value, size) => createChunks(key, value, size),
  combineChunks: (key, jar) =>
    combineChunks(key, async (name) => {
      const found = jar.find(([n]) => n === name);
      return found ? found[1] : null;
    }),
  isChunkLike: (name, key) => isChunkLike(name, key),
  stringToBase64URL: (s) => stringToBase64URL(s),
  stringFromBase64URL: (s) => stringFromBase64URL(s),
  jsonStringify: (s) => JSON.stringify(JSON.parse(s)),
};

async function runCallScenario(scenario) {
  const results = [];
  for (const { fn, args } of scenario.calls ?? []) {
    try {
      if (!CALLS[fn]) throw new Error(`unknown fn: ${fn}`);
      results.push({ ok: plain(await CALLS[fn](...(args ?? []))) });
    } catch (e) {
      results.push({ error: { name: e?.name ?? "Error", message: e?.message ?? String(e) } });
    }
  }
  return { results };
}

async function runScenario(scenario) {
  try {
    if ((scenario.kind ?? "client") === "call") return await runCallScenario(scenario);
    return await runClientScenario(scenario);
  } catch (e) {
    return { error: { name: e?.name ?? "Error", message: e?.message ?? String(e), stack: e?.stack } };
  }
}

// ─── Main ──────────────────────────────────────────────────────────────────────────

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const input = JSON.parse(await readStdin());
let output;
if (Array.isArray(input)) {
  output = [];
  for (const scenario of input) output.push(await runScenario(scenario));
} else {
  output = await runScenario(input);
}
globalThis.setTimeout = realSetTimeout;
Date.now = realDateNow;
// A string holding a lone surrogate has no UTF-8 form (and serde_json rejects its JSON
// escape): it is reported as {"$utf16": [code units]} instead.
const wellFormed = (_key, value) =>
  typeof value === "string" && !value.isWellFormed()
    ? { $utf16: Array.from({ length: value.length }, (_, i) => value.charCodeAt(i)) }
    : value;
process.stdout.write(`${JSON.stringify(output, wellFormed)}\n`, () => process.exit(0));
