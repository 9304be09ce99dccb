// The Leptos example (examples/leptos) in headless Chromium, driven by playwright-core.
// Started by examples/leptos/tests/browser.rs, which runs the app and its embedded Auth
// emulator in-process and passes:
//   APP_URL             the app, e.g. http://127.0.0.1:40123
//   SESSION_COOKIE      the session cookie name, e.g. sb-127-auth-token
//   DEMO_USER_EMAIL     the seeded user
//   DEMO_USER_PASSWORD  its password
//   TOKEN_LIFETIME_SECS access-token lifetime of the emulator
//   SCREENSHOT_DIR      where to save screenshots
//   CHROMIUM            the browser (default /usr/bin/chromium)
// The pages are server-rendered and the forms are plain HTML forms posting to Leptos
// server functions: no script of the app runs in the browser. Every step asserts what
// the page shows. Exit status 0 means every step passed.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

function required(name) {
  const value = process.env[name]
  if (!value) {
    console.error(`leptos.mjs: ${name} is not set`)
    process.exit(2)
  }
  return value
}

const APP = required('APP_URL').replace(/\/$/, '')
const COOKIE = required('SESSION_COOKIE')
const SHOTS = required('SCREENSHOT_DIR')
const EMAIL = required('DEMO_USER_EMAIL')
const PASSWORD = required('DEMO_USER_PASSWORD')
const TOKEN_SECS = Number(process.env.TOKEN_LIFETIME_SECS ?? '4')
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'

let stepNo = 0
let shotNo = 0
function step(title) {
  stepNo += 1
  console.log(`[leptos.mjs] step ${stepNo}: ${title}`)
}

async function shot(page, name) {
  shotNo += 1
  const path = join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path, fullPage: true })
  console.log(`[leptos.mjs]   screenshot ${path}`)
}

/** The visible text of `selector`, once it is there. */
async function text(page, selector) {
  const el = page.locator(selector).first()
  await el.waitFor({ state: 'visible' })
  return (await el.innerText()).trim()
}

async function expectText(page, selector, expected) {
  const actual = await text(page, selector)
  assert.equal(actual, expected, `${selector} on ${page.url()}`)
}

function expectUrl(page, pathAndQuery) {
  const url = new URL(page.url())
  assert.equal(`${url.origin}${url.pathname}${url.search}`, `${APP}${pathAndQuery}`, `expected ${pathAndQuery}, at ${page.url()}`)
}

/** The session JSON in the browser's cookies (one cookie, base64url decoded). */
async function storedSession(context) {
  const cookies = (await context.cookies(APP)).filter(
    (c) => c.name === COOKIE || c.name.startsWith(`${COOKIE}.`),
  )
  if (cookies.length === 0) return null
  assert.deepEqual(cookies.map((c) => c.name), [COOKIE], 'the session fits one cookie')
  const value = decodeURIComponent(cookies[0].value)
  assert.ok(value.startsWith('base64-'), `the session cookie is not base64- encoded: ${value.slice(0, 20)}`)
  return JSON.parse(Buffer.from(value.slice('base64-'.length), 'base64url').toString('utf8'))
}

/** Waits until the session's access token has expired by one second. */
async function waitPastExpiry(page, session) {
  const waitMs = (session.expires_at + 1) * 1000 - Date.now()
  console.log(`[leptos.mjs]   token expires at ${session.expires_at}; waiting ${Math.max(0, waitMs)} ms`)
  if (waitMs > 0) await page.waitForTimeout(waitMs)
  assert.ok(Date.now() / 1000 > session.expires_at, 'the access token has expired')
}

async function expectRefreshed(page, before, after) {
  assert.ok(after, 'still a session')
  assert.notEqual(after.refresh_token, before.refresh_token, 'the refresh token rotated')
  assert.notEqual(after.access_token, before.access_token, 'a new access token')
  assert.ok(after.expires_at > before.expires_at, `expires_at moved: ${before.expires_at} -> ${after.expires_at}`)
  await expectText(page, '#user-email', EMAIL)
  const shown = Number(await page.locator('#token-exp').getAttribute('data-exp'))
  assert.equal(shown, after.expires_at, 'the page shows the claims of the refreshed token')
}

const userDataDir = mkdtempSync(join(tmpdir(), 'leptos-chromium-'))
mkdirSync(SHOTS, { recursive: true })
rmSync(join(SHOTS, 'failure.png'), { force: true })
let context
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 760 },
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
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
  page.on('pageerror', (e) => consoleErrors.push(e.message))

  step('signed out, the protected page sends to sign-in')
  await page.goto(`${APP}/protected`)
  expectUrl(page, '/sign-in')
  await expectText(page, 'h1', 'Sign in')
  assert.equal(await storedSession(context), null, 'no session cookie before signing in')
  await shot(page, 'sign-in')

  step('a wrong password: the form says so, no cookie')
  await page.fill('input[name=email]', EMAIL)
  await page.fill('input[name=password]', 'not-the-password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${APP}/sign-in?error=invalid_credentials`)
  await expectText(page, '#error', 'Invalid email or password.')
  assert.equal(await storedSession(context), null, 'no session cookie after a wrong password')
  await shot(page, 'sign-in-error')

  step('sign in through the form (server function sign_in): the protected page shows the verified email')
  await page.fill('input[name=email]', EMAIL)
  await page.fill('input[name=password]', PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${APP}/protected`)
  await expectText(page, '#user-email', EMAIL)
  const signedIn = await storedSession(context)
  assert.ok(signedIn, 'a session cookie after signing in')
  assert.equal(signedIn.user.email, EMAIL)
  assert.equal(Number(await page.locator('#token-exp').getAttribute('data-exp')), signedIn.expires_at)
  await shot(page, 'protected')

  step(`past the access token's expiry (${TOKEN_SECS} s), a page load refreshes the session`)
  await waitPastExpiry(page, signedIn)
  await page.reload()
  expectUrl(page, '/protected')
  const afterPage = await storedSession(context)
  await expectRefreshed(page, signedIn, afterPage)
  await shot(page, 'protected-after-page-refresh')

  step('past the expiry again, a server-function call (sign_out_others) refreshes the session')
  await waitPastExpiry(page, afterPage)
  await page.getByRole('button', { name: 'Sign out my other sessions' }).click()
  await page.waitForURL(`${APP}/protected?notice=others_signed_out`)
  await expectText(page, '#notice', 'Your other sessions are signed out.')
  const afterCall = await storedSession(context)
  await expectRefreshed(page, afterPage, afterCall)
  await shot(page, 'protected-after-server-function-refresh')

  step('sign out (server function sign_out): the cookie is gone, home says signed out')
  await page.getByRole('button', { name: 'Sign out', exact: true }).click()
  await page.waitForURL(`${APP}/`)
  await expectText(page, '#whoami', 'You are not signed in. Sign in')
  assert.equal(await storedSession(context), null, 'sign-out deletes the session cookie')

  step('signed out again, the protected page is refused')
  await page.goto(`${APP}/protected`)
  expectUrl(page, '/sign-in')
  await expectText(page, 'h1', 'Sign in')
  await shot(page, 'signed-out-refused')

  assert.deepEqual(consoleErrors, [], 'no errors in the browser console')
  console.log(`[leptos.mjs] all ${stepNo} steps passed`)
} catch (error) {
  console.error(`[leptos.mjs] FAILED at step ${stepNo}: ${error?.stack ?? error}`)
  const page = context?.pages()[0]
  if (page) {
    try {
      await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true })
      console.error(`[leptos.mjs] page at failure: ${page.url()} (screenshot ${join(SHOTS, 'failure.png')})`)
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
