// End-to-end walk through the demo app in headless Chromium, driven by playwright-core.
// Started by examples/demo/tests/browser.rs, which runs the demo and its embedded Auth
// emulator in-process and passes:
//   DEMO_URL            the app, e.g. http://127.0.0.1:40123
//   EMULATOR_URL        the Auth emulator (its inbox is at /inbox)
//   SESSION_COOKIE      the session cookie name, e.g. sb-127-auth-token
//   DEMO_USER_EMAIL     the seeded demo user (the second user of the notes steps)
//   DEMO_USER_PASSWORD  its password
//   TOKEN_LIFETIME_SECS access-token lifetime of the emulator
//   SCREENSHOT_DIR      where to save screenshots
//   CHROMIUM            the browser (default /usr/bin/chromium)
// Every step asserts what the page shows. Exit status 0 means every step passed.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

function required(name) {
  const value = process.env[name]
  if (!value) {
    console.error(`demo.mjs: ${name} is not set`)
    process.exit(2)
  }
  return value
}

const APP = required('DEMO_URL').replace(/\/$/, '')
const EMULATOR = required('EMULATOR_URL').replace(/\/$/, '')
const COOKIE = required('SESSION_COOKIE')
const SHOTS = required('SCREENSHOT_DIR')
const DEMO_USER = required('DEMO_USER_EMAIL')
const DEMO_USER_PASSWORD = required('DEMO_USER_PASSWORD')
const TOKEN_SECS = Number(process.env.TOKEN_LIFETIME_SECS ?? '5')
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'

const stamp = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`
const EMAIL = `ada-${stamp}@example.com`
const PASSWORD = 'correct-horse-7'
const OAUTH_EMAIL = `grace-${stamp}@example.com`
// Markup on purpose: the page must show it as text.
const NOTE = `Ada's note <b>${stamp}</b>`
const DEMO_USER_NOTE = `The demo user's note ${stamp}`

/** The bytes of an RFC 4648 base32 string (an authenticator app's key). */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  const bytes = []
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(ch)
    assert.ok(index >= 0, 'the key is not base32')
    value = ((value << 5) | index) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      bytes.push((value >>> bits) & 0xff)
    }
  }
  return Buffer.from(bytes)
}

/** The 6-digit TOTP code of a base32 key at `unixSecs` (RFC 6238: HMAC-SHA1, 30 s steps). */
function totp(secret, unixSecs = Date.now() / 1000) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSecs / 30)))
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest()
  // Dynamic truncation (RFC 4226, 5.3).
  const offset = mac[mac.length - 1] & 0x0f
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}

/** A code the server refuses now: none of this step's and the neighbouring steps'. */
function wrongCode(secret) {
  const now = Date.now() / 1000
  const accepted = [now - 30, now, now + 30].map((t) => totp(secret, t))
  for (let n = 0; ; n += 1) {
    const code = String((n * 7919) % 1_000_000).padStart(6, '0')
    if (!accepted.includes(code)) return code
  }
}

// RFC 6238 appendix B (SHA-1, T = 59 s), its last 6 digits: the helper is right.
assert.equal(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59), '287082')

let stepNo = 0
let shotNo = 0
function step(title) {
  stepNo += 1
  console.log(`[demo.mjs] step ${stepNo}: ${title}`)
}

async function shot(page, name) {
  shotNo += 1
  const path = join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path, fullPage: true })
  console.log(`[demo.mjs]   screenshot ${path}`)
}

/** The visible text of `selector`, once it is there. */
async function text(page, selector) {
  const el = page.locator(selector).first()
  await el.waitFor({ state: 'visible' })
  return (await el.innerText()).trim()
}

async function expectText(page, selector, expected) {
  const actual = await text(page, selector)
  assert.ok(
    actual.includes(expected),
    `${selector} on ${page.url()} shows ${JSON.stringify(actual)}, expected it to contain ${JSON.stringify(expected)}`,
  )
}

function expectPath(page, path) {
  const url = new URL(page.url())
  assert.equal(`${url.origin}${url.pathname}`, `${APP}${path}`, `expected to be on ${path}, at ${page.url()}`)
}

/** The session JSON in the browser's cookies (chunks combined, base64url decoded). */
async function storedSession(context) {
  const cookies = (await context.cookies(APP)).filter(
    (c) => c.name === COOKIE || c.name.startsWith(`${COOKIE}.`),
  )
  if (cookies.length === 0) return null
  const ordered = cookies.length === 1 && cookies[0].name === COOKIE
    ? cookies
    : cookies
        .filter((c) => /^\d+$/.test(c.name.slice(COOKIE.length + 1)))
        .sort((a, b) => Number(a.name.slice(COOKIE.length + 1)) - Number(b.name.slice(COOKIE.length + 1)))
  const value = decodeURIComponent(ordered.map((c) => c.value).join(''))
  assert.ok(value.startsWith('base64-'), `the session cookie is not base64- encoded: ${value.slice(0, 20)}`)
  return JSON.parse(Buffer.from(value.slice('base64-'.length), 'base64url').toString('utf8'))
}

/** The row of the emulator's inbox page for the newest email of `kind` to `to`. */
async function openInboxRow(page, to, kind) {
  // The inbox lists newest first and reloads itself every 5 s.
  const row = page.locator('tr', { hasText: to }).filter({ hasText: kind }).first()
  await row.waitFor({ state: 'visible' })
  return row
}

async function signOut(page) {
  await page.locator('header form[action="/sign-out"] button').click()
  await page.waitForURL(`${APP}/`)
  await expectText(page, '#whoami', 'You are not signed in')
}

const userDataDir = mkdtempSync(join(tmpdir(), 'demo-chromium-'))
mkdirSync(SHOTS, { recursive: true })
rmSync(join(SHOTS, 'failure.png'), { force: true })
let context
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  context.setDefaultTimeout(15_000)
  const page = context.pages()[0] ?? (await context.newPage())
  const consoleErrors = []
  // Error pages answer 4xx on purpose; the browser logs those as failed loads.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text())
  })
  page.on('pageerror', (e) => consoleErrors.push(e.message))

  step('the home page, signed out')
  await page.goto(`${APP}/`)
  await expectText(page, '#whoami', 'You are not signed in')
  assert.equal(await storedSession(context), null, 'no session cookie before signing in')
  await shot(page, 'home-signed-out')

  step('sign up: a confirmation email goes to the inbox')
  await page.getByRole('link', { name: 'Sign up' }).first().click()
  expectPath(page, '/sign-up')
  await page.fill('input[name=display_name]', 'Ada Tester')
  await page.fill('input[name=email]', EMAIL)
  await page.fill('input[name=password]', PASSWORD)
  await page.getByRole('button', { name: 'Sign up' }).click()
  await expectText(page, '#check-inbox h1', 'Check your inbox')
  await expectText(page, '#sent-to', EMAIL)
  assert.equal(await storedSession(context), null, 'no session before the email is confirmed')
  await shot(page, 'sign-up-check-inbox')

  step('confirm through the inbox with the token hash (/auth/confirm, the SSR email template)')
  await page.locator('#inbox-link').click()
  await page.waitForURL(`${EMULATOR}/inbox`)
  const signupRow = await openInboxRow(page, EMAIL, 'signup')
  await shot(page, 'inbox-signup')
  await signupRow.getByRole('link', { name: 'Confirm Your Signup' }).click()
  await page.waitForURL(/\/inbox\/[^/]+$/)
  const message = await page.locator('body').innerText()
  const tokenHash = /Token hash:\s*(\S+)/.exec(message)?.[1]
  assert.ok(tokenHash, `no token hash on the message page: ${message}`)
  await page.goto(
    `${APP}/auth/confirm?token_hash=${encodeURIComponent(tokenHash)}&type=email&next=${encodeURIComponent('/dashboard')}`,
  )
  expectPath(page, '/dashboard')
  await expectText(page, '#claims-email', EMAIL)
  await expectText(page, '#user-email', EMAIL)
  await expectText(page, '#user-display-name', 'Ada Tester')
  assert.ok(await storedSession(context), 'a session cookie after confirming')

  step('sign out, then /dashboard sends to sign-in with next=/dashboard')
  await signOut(page)
  assert.equal(await storedSession(context), null, 'sign-out deletes the session cookie')
  await page.goto(`${APP}/dashboard`)
  expectPath(page, '/sign-in')
  assert.equal(new URL(page.url()).searchParams.get('next'), '/dashboard')
  await expectText(page, 'h1', 'Sign in')

  step('a wrong password shows the error on the page')
  await page.fill('input[name=email]', EMAIL)
  await page.fill('input[name=password]', 'not-the-password')
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await expectText(page, '#error', 'Invalid login credentials')
  await shot(page, 'sign-in-error')

  step('sign in with the password: back to /dashboard')
  await page.fill('input[name=password]', PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(`${APP}/dashboard`)
  await expectText(page, '#claims-email', EMAIL)
  await expectText(page, '#claims-amr', 'password')
  await expectText(page, '#user-display-name', 'Ada Tester')
  await expectText(page, '#nav-user', EMAIL)
  await shot(page, 'dashboard')

  step('the account page shows the profile the sign-up trigger made, and updates user_metadata.display_name')
  await page.getByRole('link', { name: 'Account' }).first().click()
  expectPath(page, '/account')
  await expectText(page, '#profile-display-name', 'Ada Tester')
  await page.fill('input[name=display_name]', 'Ada Lovelace')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.waitForURL(`${APP}/account?saved=1`)
  await expectText(page, '#saved', 'Saved')
  assert.equal(await page.inputValue('input[name=display_name]'), 'Ada Lovelace')
  await shot(page, 'account-saved')
  await page.goto(`${APP}/dashboard`)
  await expectText(page, '#user-display-name', 'Ada Lovelace')

  step(`wait past the access token's expiry (${TOKEN_SECS} s), reload: still signed in, refresh token rotated`)
  const before = await storedSession(context)
  assert.ok(before, 'a session before the wait')
  const fingerprintBefore = await text(page, '#refresh-fingerprint')
  const waitMs = (before.expires_at + 1) * 1000 - Date.now()
  console.log(`[demo.mjs]   token expires at ${before.expires_at}; waiting ${Math.max(0, waitMs)} ms`)
  if (waitMs > 0) await page.waitForTimeout(waitMs)
  assert.ok(Date.now() / 1000 > before.expires_at, 'the access token has expired')
  await page.reload()
  expectPath(page, '/dashboard')
  await expectText(page, '#claims-email', EMAIL)
  const after = await storedSession(context)
  assert.ok(after, 'still a session after the reload')
  assert.notEqual(after.refresh_token, before.refresh_token, 'the refresh token rotated')
  assert.notEqual(after.access_token, before.access_token, 'a new access token')
  assert.ok(after.expires_at > before.expires_at, `expires_at moved: ${before.expires_at} -> ${after.expires_at}`)
  const fingerprintAfter = await text(page, '#refresh-fingerprint')
  assert.notEqual(fingerprintAfter, fingerprintBefore, 'the dashboard shows the new refresh token')
  assert.ok((await page.locator('#refresh-history li').count()) >= 2, 'the history lists both tokens')
  const exp = Number(await page.locator('#claims-exp').getAttribute('data-exp'))
  assert.equal(exp, after.expires_at, 'the verified claims are the refreshed token')
  await shot(page, 'dashboard-after-refresh')

  step('/browser-client: the official createBrowserClient reads the same session')
  await page.getByRole('link', { name: 'Browser client' }).first().click()
  expectPath(page, '/browser-client')
  await expectText(page, '#server-email', EMAIL)
  await page.waitForSelector('#browser-client:not([data-state="loading"])')
  const state = await page.locator('#browser-client').getAttribute('data-state')
  assert.equal(state, 'ok', `browser client: ${await text(page, '#browser-status')}`)
  await expectText(page, '#browser-session-email', EMAIL)
  await expectText(page, '#browser-user-email', EMAIL)
  await expectText(page, '#browser-cookies', COOKIE)
  await shot(page, 'browser-client')

  step('back on the server after the browser client: still the same user')
  await page.goto(`${APP}/dashboard`)
  expectPath(page, '/dashboard')
  await expectText(page, '#claims-email', EMAIL)

  step('sign out, then sign in with a magic link from the inbox (/auth/callback, PKCE)')
  await signOut(page)
  await page.goto(`${APP}/sign-in`)
  await page.getByRole('link', { name: 'Email me a magic link instead' }).click()
  expectPath(page, '/sign-in/magic-link')
  await page.fill('input[name=email]', EMAIL)
  await page.getByRole('button', { name: 'Send magic link' }).click()
  await expectText(page, '#sent-to', EMAIL)
  await shot(page, 'magic-link-sent')
  await page.locator('#inbox-link').click()
  await page.waitForURL(`${EMULATOR}/inbox`)
  const magicRow = await openInboxRow(page, EMAIL, 'magiclink')
  await shot(page, 'inbox-magic-link')
  await magicRow.getByRole('link', { name: 'open link' }).click()
  await page.waitForURL(`${APP}/dashboard`)
  await expectText(page, '#claims-email', EMAIL)
  await expectText(page, '#user-display-name', 'Ada Lovelace')
  await shot(page, 'dashboard-magic-link')

  step('OAuth with the emulator\'s local provider (/auth/callback, PKCE)')
  await signOut(page)
  await page.goto(`${APP}/sign-in`)
  await page.getByRole('button', { name: 'Continue with GitHub' }).click()
  await page.waitForURL(/\/oauth-provider\/authorize/)
  await page.fill('input[name=email]', OAUTH_EMAIL)
  await page.fill('input[name=name]', 'Grace Hopper')
  await page.getByRole('button', { name: 'Authorize' }).click()
  await page.waitForURL(`${APP}/dashboard`)
  await expectText(page, '#claims-email', OAUTH_EMAIL)
  await expectText(page, '#claims-amr', 'oauth')

  step('a foreign next is ignored: sign-in lands on /dashboard')
  await signOut(page)
  await page.goto(`${APP}/sign-in?next=${encodeURIComponent('https://evil.example/')}`)
  await page.fill('input[name=email]', EMAIL)
  await page.fill('input[name=password]', PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(`${APP}/dashboard`)
  await expectText(page, '#claims-email', EMAIL)

  step('notes: A writes a note on /notes and sees it, markup shown as text')
  await page.getByRole('link', { name: 'Notes', exact: true }).first().click()
  expectPath(page, '/notes')
  await expectText(page, '#no-notes', 'No notes yet')
  await page.fill('textarea[name=body]', NOTE)
  await page.getByRole('button', { name: 'Add note' }).click()
  expectPath(page, '/notes')
  await expectText(page, '#notes li', NOTE)
  assert.equal(await page.locator('#notes li').count(), 1, 'one note')
  assert.equal(await page.locator('#notes li b').count(), 0, "the note's markup is not rendered")
  await shot(page, 'notes-user-a')

  step("notes: B (the seeded demo user) does not see A's note, and writes one of their own")
  await signOut(page)
  await page.goto(`${APP}/notes`)
  expectPath(page, '/sign-in')
  assert.equal(new URL(page.url()).searchParams.get('next'), '/notes')
  await page.fill('input[name=email]', DEMO_USER)
  await page.fill('input[name=password]', DEMO_USER_PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(`${APP}/notes`)
  await expectText(page, '#nav-user', DEMO_USER)
  await expectText(page, '#no-notes', 'No notes yet')
  assert.equal(await page.locator('#notes li').count(), 0, "B's list is empty")
  assert.ok(!(await page.locator('main').innerText()).includes(NOTE), "A's note is not on B's page")
  await shot(page, 'notes-user-b-empty')
  await page.fill('textarea[name=body]', DEMO_USER_NOTE)
  await page.getByRole('button', { name: 'Add note' }).click()
  await expectText(page, '#notes li', DEMO_USER_NOTE)
  assert.equal(await page.locator('#notes li').count(), 1, 'only B\'s own note')

  step('MFA: /security without an authenticator app sends A to /account/mfa')
  await signOut(page)
  await page.goto(`${APP}/sign-in?next=${encodeURIComponent('/security')}`)
  await page.fill('input[name=email]', EMAIL)
  await page.fill('input[name=password]', PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(`${APP}/account/mfa?next=%2Fsecurity`)
  await expectText(page, '#notice', 'That page needs a second factor: set up an authenticator app first.')
  await expectText(page, '#mfa-aal', 'aal1')
  await expectText(page, '#no-factors', 'None yet')

  step('MFA: set up an authenticator app: the QR code and the key')
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click()
  expectPath(page, '/account/mfa/enroll')
  await expectText(page, 'h1', 'Set up an authenticator app')
  const qrWidth = await page.locator('#mfa-qr').evaluate(async (img) => {
    await img.decode()
    return img.naturalWidth
  })
  assert.ok(qrWidth > 0, 'the QR code image renders')
  const secret = await text(page, '#mfa-secret')
  assert.match(secret, /^[A-Z2-7]{32}$/, 'the key is 32 base32 characters')
  await shot(page, 'mfa-qr-code')

  step('MFA: a wrong first code shows the error')
  await page.fill('input[name=code]', wrongCode(secret))
  await page.getByRole('button', { name: 'Verify and turn on' }).click()
  expectPath(page, '/account/mfa/verify')
  await expectText(page, '#error', 'Invalid TOTP code entered')
  assert.equal(await page.locator('#mfa-secret').count(), 0, 'the key is not shown again')
  await shot(page, 'mfa-wrong-code')

  step('MFA: the right code turns the app on and opens /security at aal2')
  await page.fill('input[name=code]', totp(secret))
  await page.getByRole('button', { name: 'Verify and turn on' }).click()
  await page.waitForURL(`${APP}/security`)
  await expectText(page, '#security-passed', 'You passed a second factor in this session.')
  await expectText(page, '#security-aal', 'aal2')
  await expectText(page, '#security-amr', 'totp')
  await expectText(page, '#security-amr', 'password')
  const mfaSession = await storedSession(context)
  const payload = JSON.parse(Buffer.from(mfaSession.access_token.split('.')[1], 'base64url').toString('utf8'))
  assert.equal(payload.aal, 'aal2', 'the session cookie holds the aal2 token')
  await shot(page, 'mfa-security')

  step('MFA: the account page lists the app as verified')
  await page.getByRole('link', { name: 'Manage your authenticator apps' }).click()
  expectPath(page, '/account/mfa')
  await expectText(page, '#mfa-factors li[data-status="verified"]', 'Authenticator app')
  assert.equal(await page.locator('#mfa-factors li').count(), 1, 'one app')
  await expectText(page, '#mfa-aal', 'aal2')
  await shot(page, 'mfa-account')

  step('MFA: sign out, sign in with next=/security: the code prompt first')
  await signOut(page)
  await page.goto(`${APP}/sign-in?next=${encodeURIComponent('/security')}`)
  await page.fill('input[name=email]', EMAIL)
  await page.fill('input[name=password]', PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(`${APP}/mfa/challenge?next=%2Fsecurity`)
  await expectText(page, 'h1', 'Enter your code')
  await shot(page, 'mfa-challenge')

  step('MFA: the code opens /security at aal2')
  await page.fill('input[name=code]', totp(secret))
  await page.getByRole('button', { name: 'Verify', exact: true }).click()
  await page.waitForURL(`${APP}/security`)
  await expectText(page, '#security-aal', 'aal2')
  await expectText(page, '#security-amr', 'totp')

  step('sign out: /dashboard redirects to sign-in')
  await signOut(page)
  assert.equal(await storedSession(context), null, 'no session cookie after signing out')
  await page.goto(`${APP}/dashboard`)
  expectPath(page, '/sign-in')
  await expectText(page, 'h1', 'Sign in')
  await expectText(page, '#notice', 'Sign in to continue')
  await shot(page, 'signed-out-redirect')

  step('signed out: /notes shows no note, it redirects to sign-in')
  await page.goto(`${APP}/notes`)
  expectPath(page, '/sign-in')
  assert.equal(new URL(page.url()).searchParams.get('next'), '/notes')
  await expectText(page, '#notice', 'Sign in to continue')
  const signedOutText = await page.locator('body').innerText()
  assert.ok(!signedOutText.includes(NOTE) && !signedOutText.includes(DEMO_USER_NOTE), 'no note is shown')
  assert.equal(await page.locator('#notes li').count(), 0, 'no note list')
  await shot(page, 'notes-signed-out')

  assert.deepEqual(consoleErrors, [], 'no errors in the browser console')
  console.log(`[demo.mjs] all ${stepNo} steps passed`)
} catch (error) {
  console.error(`[demo.mjs] FAILED at step ${stepNo}: ${error?.stack ?? error}`)
  const page = context?.pages()[0]
  if (page) {
    try {
      await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true })
      console.error(`[demo.mjs] page at failure: ${page.url()} (screenshot ${join(SHOTS, 'failure.png')})`)
      console.error((await page.locator('body').innerText()).slice(0, 2000))
    } catch {
      // The page may be gone; the error above is what matters.
    }
  }
  process.exitCode = 1
} finally {
  await context?.close().catch(() => {})
  rmSync(userDataDir, { recursive: true, force: true })
}
