// OAuth sign-in through the emulator's local test provider, PKCE flow.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { APP_CALLBACK, AUTH_URL, URL_, claimsOf, client, email, follow } from './helpers.mjs'

test('signInWithOAuth through the local provider, then exchangeCodeForSession', async () => {
  const supabase = client({ flowType: 'pkce' })
  const address = email('oauth')
  const { data, error } = await supabase.auth.signInWithOAuth({
    provider: 'github',
    options: { redirectTo: APP_CALLBACK, skipBrowserRedirect: true, queryParams: { login_hint: address } },
  })
  assert.equal(error, null)
  assert.equal(data.provider, 'github')
  const authorize = new URL(data.url)
  assert.equal(authorize.pathname, '/auth/v1/authorize')
  assert.equal(authorize.searchParams.get('code_challenge_method'), 's256')

  // The browser would land on the consent page...
  const [s1, consent] = await follow(data.url)
  assert.equal(s1, 302)
  assert.equal(consent.pathname, '/oauth-provider/authorize')
  assert.equal(consent.searchParams.get('redirect_uri'), `${AUTH_URL}/callback`)
  const page = await (await fetch(consent)).text()
  assert.ok(page.includes(`value="${address}"`), 'login_hint pre-fills the email')

  // ...and submit it.
  const form = new URLSearchParams({
    state: consent.searchParams.get('state'),
    redirect_uri: consent.searchParams.get('redirect_uri'),
    email: address,
    name: 'Octo Cat',
    action: 'approve',
  })
  const [s2, callback] = await follow(`${URL_}/oauth-provider/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  })
  assert.equal(s2, 302)
  assert.equal(callback.pathname, '/auth/v1/callback')
  const [s3, app] = await follow(callback)
  assert.equal(s3, 302)
  assert.equal(`${app.origin}${app.pathname}`, APP_CALLBACK)

  const exchanged = await supabase.auth.exchangeCodeForSession(app.searchParams.get('code'))
  assert.equal(exchanged.error, null)
  const { user, session } = exchanged.data
  assert.equal(user.email, address)
  assert.deepEqual(user.app_metadata, { provider: 'github', providers: ['github'] })
  assert.equal(user.user_metadata.full_name, 'Octo Cat')
  assert.equal(user.identities[0].provider, 'github')
  assert.match(session.provider_token, /^emulator-provider-token-/)
  assert.deepEqual(claimsOf(session.access_token).amr.map((a) => a.method), ['oauth'])
})
