// Magic link with PKCE, verifyOtp with a token hash and with the email code, password recovery.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { APP_CALLBACK, adminClient, claimsOf, client, email, follow, latestMail } from './helpers.mjs'

async function existingUser(tag) {
  const address = email(tag)
  const { error } = await adminClient().auth.admin.createUser({ email: address, password: 'secret123', email_confirm: true })
  assert.equal(error, null)
  return address
}

test('magic link with PKCE: read the inbox, follow the link, exchangeCodeForSession', async () => {
  const address = await existingUser('magic')
  const supabase = client({ flowType: 'pkce' })
  const sent = await supabase.auth.signInWithOtp({ email: address, options: { emailRedirectTo: APP_CALLBACK } })
  assert.equal(sent.error, null)
  assert.equal(sent.data.session, null)

  const mail = await latestMail(address)
  assert.equal(mail.kind, 'magiclink')
  assert.equal(mail.to, address)
  assert.match(mail.token_hash, /^pkce_[0-9a-f]{56}$/)
  assert.match(mail.otp, /^\d{6}$/)
  assert.ok(mail.link.includes('/auth/v1/verify?token=pkce_'))
  assert.ok(mail.html.includes(mail.otp))

  const [status, location] = await follow(mail.link)
  assert.equal(status, 303)
  assert.equal(`${location.origin}${location.pathname}`, APP_CALLBACK)
  const code = location.searchParams.get('code')
  assert.match(code, /^[0-9a-f-]{36}$/)

  const { data, error } = await supabase.auth.exchangeCodeForSession(code)
  assert.equal(error, null)
  assert.equal(data.user.email, address)
  assert.equal(data.session.user.id, data.user.id)
  assert.deepEqual(claimsOf(data.session.access_token).amr.map((a) => a.method), ['magiclink'])
  assert.equal((await supabase.auth.getUser()).data.user.email, address)

  const again = await client({ flowType: 'pkce' }).auth.exchangeCodeForSession(code)
  assert.ok(again.error, 'a code is single use (and the verifier lives in the first client)')
})

test('verifyOtp with the token hash from the email', async () => {
  const address = await existingUser('hash')
  const supabase = client()
  assert.equal((await supabase.auth.signInWithOtp({ email: address })).error, null)
  const mail = await latestMail(address)
  assert.match(mail.token_hash, /^[0-9a-f]{56}$/)

  const { data, error } = await supabase.auth.verifyOtp({ token_hash: mail.token_hash, type: 'email' })
  assert.equal(error, null)
  assert.equal(data.user.email, address)
  assert.deepEqual(claimsOf(data.session.access_token).amr.map((a) => a.method), ['otp'])
  assert.equal((await supabase.auth.getSession()).data.session.access_token, data.session.access_token)

  const reused = await client().auth.verifyOtp({ token_hash: mail.token_hash, type: 'email' })
  assert.equal(reused.error.status, 403)
  assert.equal(reused.error.code, 'otp_expired')
  assert.equal(reused.error.message, 'Email link is invalid or has expired')
})

test('verifyOtp with the six-digit email code', async () => {
  const address = email('code')
  const supabase = client()
  // A new address: signInWithOtp creates the user (autoconfirm), then mails a magic link.
  assert.equal((await supabase.auth.signInWithOtp({ email: address })).error, null)
  const mail = await latestMail(address)
  const wrong = mail.otp === '000000' ? '111111' : '000000'
  const bad = await supabase.auth.verifyOtp({ email: address, token: wrong, type: 'email' })
  assert.equal(bad.error.code, 'otp_expired')
  assert.equal(bad.error.message, 'Token has expired or is invalid')

  const { data, error } = await supabase.auth.verifyOtp({ email: address, token: mail.otp, type: 'email' })
  assert.equal(error, null)
  assert.equal(data.user.email, address)
  assert.equal(typeof data.user.email_confirmed_at, 'string')
  assert.equal(data.session.token_type, 'bearer')
})

test('password recovery email leads to a recovery session', async () => {
  const address = await existingUser('recover')
  const supabase = client()
  assert.equal((await supabase.auth.resetPasswordForEmail(address, { redirectTo: APP_CALLBACK })).error, null)
  const mail = await latestMail(address)
  assert.equal(mail.kind, 'recovery')
  assert.equal(mail.redirect_to, APP_CALLBACK)
  const { data, error } = await supabase.auth.verifyOtp({ token_hash: mail.token_hash, type: 'recovery' })
  assert.equal(error, null)
  assert.equal(data.user.email, address)
  const updated = await supabase.auth.updateUser({ password: 'recovered-pw' })
  assert.equal(updated.error, null)
  const login = await client().auth.signInWithPassword({ email: address, password: 'recovered-pw' })
  assert.equal(login.error, null)
})
