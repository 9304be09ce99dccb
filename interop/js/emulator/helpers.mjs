// Shared helpers for the emulator suite: clients, a recording fetch, the inbox.
import assert from 'node:assert/strict'
import { createHmac, randomUUID } from 'node:crypto'
import { createClient } from '@supabase/supabase-js'

function env(name) {
  const value = process.env[name]
  assert.ok(value, `${name} must be set (run through crates/supabase-auth-emulator/tests/js_client.rs)`)
  return value
}

export const URL_ = env('EMULATOR_URL')
export const AUTH_URL = `${URL_}/auth/v1`
export const PUBLISHABLE_KEY = env('EMULATOR_PUBLISHABLE_KEY')
export const SECRET_KEY = env('EMULATOR_SECRET_KEY')
export const REUSE_INTERVAL_MS = Number(env('EMULATOR_REUSE_INTERVAL_MS'))
export const APP_CALLBACK = 'http://127.0.0.1:3000/auth/callback'

/** A unique address per test, so email frequency limits never collide. */
export function email(tag) {
  return `${tag}-${randomUUID().slice(0, 8)}@example.com`
}

/** A fetch that records every request (method and URL) made through it. */
export function recordingFetch() {
  const calls = []
  const fetchFn = async (input, init) => {
    const url = typeof input === 'string' ? input : input.url
    calls.push({ method: (init?.method ?? 'GET').toUpperCase(), url, path: new URL(url).pathname })
    return fetch(input, init)
  }
  return { calls, fetch: fetchFn }
}

/**
 * The URL of an extra emulator with one non-default setting, started by
 * tests/js_client.rs: 'CONFIRMATIONS' (autoconfirm off), 'SECURE_CHANGE_OFF'
 * (secure email change off), 'SECURE_PASSWORD' (secure password change on).
 */
export function variantUrl(name) {
  return env(`EMULATOR_${name}_URL`)
}

/**
 * A supabase-js client against the emulator (or the one at `url`); `flowType`
 * 'implicit' (default) or 'pkce'.
 */
export function client({ key = PUBLISHABLE_KEY, flowType = 'implicit', fetch: fetchFn, url = URL_ } = {}) {
  return createClient(url, key, {
    auth: { autoRefreshToken: false, persistSession: true, detectSessionInUrl: false, flowType },
    global: fetchFn ? { fetch: fetchFn } : {},
  })
}

/** The service-role client (secret key). */
export function adminClient({ url = URL_ } = {}) {
  return createClient(url, SECRET_KEY, { auth: { autoRefreshToken: false, persistSession: false } })
}

/** Decodes a JWT payload without verifying it. */
export function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))
}

/** The newest inbox message to `to` (in the emulator at `url`). */
export async function latestMail(to, url = URL_) {
  const res = await fetch(`${url}/inbox/api/messages/latest?to=${encodeURIComponent(to)}`)
  assert.equal(res.status, 200, `no mail for ${to}`)
  return res.json()
}

/** Every inbox message to `to` (in the emulator at `url`), oldest first. */
export async function mailsTo(to, url = URL_) {
  const res = await fetch(`${url}/inbox/api/messages?to=${encodeURIComponent(to)}`)
  assert.equal(res.status, 200)
  return (await res.json()).messages
}

/** GET without following redirects; returns [status, Location as URL]. */
export async function follow(url, init = {}) {
  const res = await fetch(url, { ...init, redirect: 'manual' })
  const location = res.headers.get('location')
  return [res.status, location ? new URL(location) : null]
}

/** Signs up with a password; asserts a session came back. */
export async function signUp(supabase, address, password = 'secret123', data = {}) {
  const { data: out, error } = await supabase.auth.signUp({ email: address, password, options: { data } })
  assert.equal(error, null)
  assert.ok(out.session, 'autoconfirm is on, so signUp returns a session')
  return out
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** RFC 4648 base32 (no padding needed) to bytes. */
function base32Bytes(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const out = []
  let bits = 0
  let value = 0
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(ch)
    assert.ok(index >= 0, `not base32: ${ch}`)
    value = ((value << 5) | index) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

/** The RFC 6238 code (HMAC-SHA1, 6 digits, 30 s steps) of a base32 `secret` at `atMs`. */
export function totp(secret, atMs = Date.now()) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)))
  const mac = createHmac('sha1', base32Bytes(secret)).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return String(value).padStart(6, '0')
}

/** A six-digit code the server refuses now (none of the previous, current and next step's). */
export function wrongTotp(secret, atMs = Date.now()) {
  const valid = [-30_000, 0, 30_000].map((d) => totp(secret, atMs + d))
  for (let n = 0; ; n += 1) {
    const code = String(n).padStart(6, '0')
    if (!valid.includes(code)) return code
  }
}

/** Waits until at least 5 s remain in the current 30 s step, so a code made now is checked in it. */
export async function stepSafe() {
  while ((Date.now() / 1000) % 30 >= 25) await sleep(250)
}

/** A unique E.164 number per test (`+1555` and seven random digits), for SMS limits. */
export function phone() {
  return `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`
}

/** The newest SMS to `number` (any spelling GoTrue accepts) in the emulator at `url`. */
export async function latestSms(number, url = URL_) {
  const res = await fetch(`${url}/inbox/api/messages/latest?channel=sms&to=${encodeURIComponent(number)}`)
  assert.equal(res.status, 200, `no SMS for ${number}`)
  return res.json()
}
