// Password sign-up and sign-in, claims, getUser, refresh and reuse, updateUser, sign-out scopes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  AUTH_URL, REUSE_INTERVAL_MS, URL_, claimsOf, client, email, recordingFetch, signUp, sleep,
} from './helpers.mjs'

test('signUp and signInWithPassword return the real session and user shapes', async () => {
  const supabase = client()
  const address = email('signup')
  const { user, session } = await signUp(supabase, address, 'secret123', { plan: 'pro' })
  assert.equal(user.email, address)
  assert.equal(user.aud, 'authenticated')
  assert.equal(user.role, 'authenticated')
  assert.equal(user.is_anonymous, false)
  assert.deepEqual(user.app_metadata, { provider: 'email', providers: ['email'] })
  assert.equal(user.user_metadata.plan, 'pro')
  assert.equal(user.user_metadata.email_verified, true)
  assert.equal(user.identities.length, 1)
  assert.equal(user.identities[0].provider, 'email')
  assert.equal(session.token_type, 'bearer')
  assert.equal(session.expires_in, 3600)
  assert.match(session.refresh_token, /^[a-z2-7]{12}$/)

  const other = client()
  const { data, error } = await other.auth.signInWithPassword({ email: address, password: 'secret123' })
  assert.equal(error, null)
  assert.equal(data.user.id, user.id)
  assert.notEqual(data.session.access_token, session.access_token)
  assert.equal(data.weakPassword ?? null, null)
  const claims = claimsOf(data.session.access_token)
  assert.equal(claims.sub, user.id)
  assert.equal(claims.iss, AUTH_URL)
  assert.deepEqual(claims.amr.map((a) => a.method), ['password'])
  assert.notEqual(claims.session_id, claimsOf(session.access_token).session_id)

  const bad = await client().auth.signInWithPassword({ email: address, password: 'wrong-password' })
  assert.equal(bad.data.session, null)
  assert.equal(bad.error.status, 400)
  assert.equal(bad.error.code, 'invalid_credentials')
  assert.equal(bad.error.message, 'Invalid login credentials')
})

test('getClaims verifies ES256 locally through the JWKS, with no /user call', async () => {
  const rec = recordingFetch()
  const supabase = client({ fetch: rec.fetch })
  const { user } = await signUp(supabase, email('claims'))
  rec.calls.length = 0

  const { data, error } = await supabase.auth.getClaims()
  assert.equal(error, null)
  assert.equal(data.header.alg, 'ES256')
  assert.equal(typeof data.header.kid, 'string')
  assert.equal(data.claims.sub, user.id)
  assert.equal(data.claims.email, user.email)
  assert.equal(data.claims.role, 'authenticated')
  assert.equal(data.claims.aud, 'authenticated')
  assert.equal(data.claims.iss, AUTH_URL)
  assert.equal(data.claims.aal, 'aal1')
  assert.equal(data.claims.is_anonymous, false)
  assert.deepEqual(rec.calls.map((c) => c.path), ['/auth/v1/.well-known/jwks.json'])

  const jwks = await (await fetch(`${AUTH_URL}/.well-known/jwks.json`)).json()
  assert.ok(jwks.keys.some((k) => k.kid === data.header.kid && k.kty === 'EC' && k.crv === 'P-256'))

  rec.calls.length = 0
  const again = await supabase.auth.getClaims()
  assert.equal(again.error, null)
  assert.equal(again.data.claims.session_id, data.claims.session_id)
  assert.deepEqual(rec.calls, [], 'the JWKS is cached: no request at all')
})

test('getUser asks the server', async () => {
  const rec = recordingFetch()
  const supabase = client({ fetch: rec.fetch })
  const { user } = await signUp(supabase, email('getuser'))
  rec.calls.length = 0
  const { data, error } = await supabase.auth.getUser()
  assert.equal(error, null)
  assert.equal(data.user.id, user.id)
  assert.equal(data.user.email, user.email)
  assert.equal(typeof data.user.confirmed_at, 'string')
  assert.deepEqual(rec.calls.map((c) => `${c.method} ${c.path}`), ['GET /auth/v1/user'])
})

test('refreshSession rotates the refresh token and keeps the session', async () => {
  const supabase = client()
  const { session } = await signUp(supabase, email('refresh'))
  const { data, error } = await supabase.auth.refreshSession()
  assert.equal(error, null)
  assert.notEqual(data.session.refresh_token, session.refresh_token)
  assert.notEqual(data.session.access_token, session.access_token)
  assert.equal(data.user.id, session.user.id)
  assert.equal(claimsOf(data.session.access_token).session_id, claimsOf(session.access_token).session_id)
  const stored = await supabase.auth.getSession()
  assert.equal(stored.data.session.refresh_token, data.session.refresh_token)
})

test('refresh-token reuse inside the interval succeeds, outside it is rejected', async () => {
  const supabase = client()
  const { session: s0 } = await signUp(supabase, email('reuse'))
  const r1 = await supabase.auth.refreshSession()
  assert.equal(r1.error, null)

  // The parent of the active token returns the active token itself.
  const parent = await client().auth.refreshSession({ refresh_token: s0.refresh_token })
  assert.equal(parent.error, null)
  assert.equal(parent.data.session.refresh_token, r1.data.session.refresh_token)

  const r2 = await supabase.auth.refreshSession()
  assert.equal(r2.error, null)
  // s0 is now a grandparent; inside the interval it still yields a new child.
  const inside = await client().auth.refreshSession({ refresh_token: s0.refresh_token })
  assert.equal(inside.error, null)
  assert.notEqual(inside.data.session.refresh_token, r2.data.session.refresh_token)
  assert.equal(claimsOf(inside.data.session.access_token).session_id, claimsOf(s0.access_token).session_id)

  // That child's parent is s0, so s0 would now yield the active token again. r1's token,
  // revoked when r2 was issued, is neither active nor the parent of the active token.
  await sleep(REUSE_INTERVAL_MS + 500)
  const outside = await client().auth.refreshSession({ refresh_token: r1.data.session.refresh_token })
  assert.equal(outside.data.session, null)
  assert.equal(outside.error.status, 400)
  assert.equal(outside.error.code, 'refresh_token_already_used')
  assert.equal(outside.error.message, 'Invalid Refresh Token: Already Used')
})

test('updateUser changes metadata and the password', async () => {
  const supabase = client()
  const address = email('update')
  await signUp(supabase, address)
  const meta = await supabase.auth.updateUser({ data: { nickname: 'ann' } })
  assert.equal(meta.error, null)
  assert.equal(meta.data.user.user_metadata.nickname, 'ann')
  assert.equal(meta.data.user.email, address)

  const same = await supabase.auth.updateUser({ password: 'secret123' })
  assert.equal(same.error.code, 'same_password')
  assert.equal(same.error.status, 422)

  const pw = await supabase.auth.updateUser({ password: 'a-new-secret' })
  assert.equal(pw.error, null)
  const old = await client().auth.signInWithPassword({ email: address, password: 'secret123' })
  assert.equal(old.error.code, 'invalid_credentials')
  const fresh = await client().auth.signInWithPassword({ email: address, password: 'a-new-secret' })
  assert.equal(fresh.error, null)
  assert.equal(fresh.data.user.user_metadata.nickname, 'ann')
})

test('signOut with scope others, local and global', async () => {
  const address = email('signout')
  await signUp(client(), address)
  const signIn = async () => {
    const c = client()
    const { error } = await c.auth.signInWithPassword({ email: address, password: 'secret123' })
    assert.equal(error, null)
    return c
  }
  const [a, b, c] = [await signIn(), await signIn(), await signIn()]
  const bToken = (await b.auth.getSession()).data.session.access_token

  assert.equal((await a.auth.signOut({ scope: 'others' })).error, null)
  assert.equal((await a.auth.getUser()).error, null, 'the caller keeps its session')
  const gone = await b.auth.getUser()
  assert.equal(gone.data.user, null)
  assert.equal(gone.error.name, 'AuthSessionMissingError')
  const raw = await fetch(`${AUTH_URL}/user`, { headers: { apikey: process.env.EMULATOR_PUBLISHABLE_KEY, authorization: `Bearer ${bToken}` } })
  assert.equal(raw.status, 403)
  assert.deepEqual(await raw.json(), { code: 403, error_code: 'session_not_found', msg: 'Session from session_id claim in JWT does not exist' })

  const aToken = (await a.auth.getSession()).data.session.access_token
  assert.equal((await a.auth.signOut({ scope: 'local' })).error, null)
  assert.equal((await a.auth.getSession()).data.session, null)
  const aRaw = await fetch(`${AUTH_URL}/user`, { headers: { apikey: process.env.EMULATOR_PUBLISHABLE_KEY, authorization: `Bearer ${aToken}` } })
  assert.equal(aRaw.status, 403)

  const d = await signIn()
  assert.equal((await d.auth.signOut()).error, null)
  assert.equal((await d.auth.getSession()).data.session, null)
  const cAfter = await c.auth.getUser()
  assert.equal(cAfter.error.name, 'AuthSessionMissingError', 'global sign-out ended every session')
  assert.ok(URL_.startsWith('http://127.0.0.1:'))
})

test('anonymous sign-in', async () => {
  const supabase = client()
  const { data, error } = await supabase.auth.signInAnonymously({ options: { data: { theme: 'dark' } } })
  assert.equal(error, null)
  assert.equal(data.user.is_anonymous, true)
  assert.equal(data.user.email, '')
  assert.deepEqual(data.user.user_metadata, { theme: 'dark' })
  assert.equal(claimsOf(data.session.access_token).is_anonymous, true)
})
