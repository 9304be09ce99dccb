// Identity linking and unlinking, the anonymous upgrade, and signInWithIdToken with
// an id_token from the emulator's local provider.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { APP_CALLBACK, AUTH_URL, URL_, claimsOf, client, email, follow, signUp } from './helpers.mjs'

/** Approves the local provider's consent page at `consentUrl` as `address`; returns the app URL. */
async function approve(consentUrl, address) {
  const consent = new URL(consentUrl)
  assert.equal(consent.pathname, '/oauth-provider/authorize')
  const form = new URLSearchParams({
    state: consent.searchParams.get('state'),
    redirect_uri: `${AUTH_URL}/callback`,
    email: address,
    action: 'approve',
  })
  const [s1, callback] = await follow(`${URL_}/oauth-provider/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  })
  assert.equal(s1, 302)
  const [s2, app] = await follow(callback)
  assert.equal(s2, 302)
  return app
}

/** An id_token signed by the local provider, as a native Google/Apple SDK would hand one. */
async function idToken(body) {
  const res = await fetch(`${URL_}/oauth-provider/id_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  assert.equal(res.status, 200)
  return (await res.json()).id_token
}

const sha256Hex = (s) => createHash('sha256').update(s).digest('hex')

test('linkIdentity (PKCE), getUserIdentities, unlinkIdentity', async () => {
  const supabase = client({ flowType: 'pkce' })
  const address = email('link')
  await signUp(supabase, address)

  const { data, error } = await supabase.auth.linkIdentity({
    provider: 'github',
    options: { redirectTo: APP_CALLBACK, skipBrowserRedirect: true },
  })
  assert.equal(error, null)
  assert.equal(data.provider, 'github')
  const githubAddress = email('link-gh')
  const app = await approve(data.url, githubAddress)
  assert.equal(`${app.origin}${app.pathname}`, APP_CALLBACK)
  const exchanged = await supabase.auth.exchangeCodeForSession(app.searchParams.get('code'))
  assert.equal(exchanged.error, null)
  assert.equal(exchanged.data.user.email, address)

  const listed = await supabase.auth.getUserIdentities()
  assert.equal(listed.error, null)
  assert.deepEqual(listed.data.identities.map((i) => i.provider), ['email', 'github'])
  const github = listed.data.identities.find((i) => i.provider === 'github')
  assert.equal(github.identity_data.email, githubAddress)

  const unlinked = await supabase.auth.unlinkIdentity(github)
  assert.equal(unlinked.error, null)
  const after = await supabase.auth.getUserIdentities()
  assert.deepEqual(after.data.identities.map((i) => i.provider), ['email'])

  const last = await supabase.auth.unlinkIdentity(after.data.identities[0])
  assert.equal(last.error.status, 422)
  assert.equal(last.error.code, 'single_identity_not_deletable')
})

test('an anonymous user links an OAuth identity and becomes permanent', async () => {
  const supabase = client()
  const anon = await supabase.auth.signInAnonymously()
  assert.equal(anon.error, null)
  assert.equal(anon.data.user.is_anonymous, true)

  const { data, error } = await supabase.auth.linkIdentity({
    provider: 'google',
    options: { skipBrowserRedirect: true },
  })
  assert.equal(error, null)
  const address = email('upgrade')
  const app = await approve(data.url, address)
  const fragment = new URLSearchParams(app.hash.slice(1))
  const set = await supabase.auth.setSession({
    access_token: fragment.get('access_token'),
    refresh_token: fragment.get('refresh_token'),
  })
  assert.equal(set.error, null)
  assert.equal(claimsOf(fragment.get('access_token')).is_anonymous, false)

  const { data: got } = await supabase.auth.getUser()
  assert.equal(got.user.id, anon.data.user.id)
  assert.equal(got.user.is_anonymous, false)
  assert.equal(got.user.email, address)
  assert.deepEqual(got.user.app_metadata, { provider: 'google', providers: ['google'] })
})

test('signInWithIdToken with an id_token of the local provider', async () => {
  const supabase = client()
  const address = email('idtoken')
  const nonce = randomUUID()
  const token = await idToken({ provider: 'google', email: address, name: 'Ida', nonce: sha256Hex(nonce) })

  const { data, error } = await supabase.auth.signInWithIdToken({ provider: 'google', token, nonce })
  assert.equal(error, null)
  assert.equal(data.user.email, address)
  assert.equal(data.user.identities[0].provider, 'google')
  assert.equal(data.user.user_metadata.full_name, 'Ida')
  assert.deepEqual(claimsOf(data.session.access_token).amr.map((a) => a.method), ['oauth'])

  const wrong = await supabase.auth.signInWithIdToken({ provider: 'google', token, nonce: 'not-it' })
  assert.equal(wrong.error.status, 400)
  assert.equal(wrong.error.message, 'Nonces mismatch')
})
