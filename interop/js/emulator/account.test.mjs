// Account changes: updateUser({ email }) with and without secure email change, signUp of
// an invited address, reauthenticate() + updateUser({ password, nonce }).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  SECRET_KEY,
  adminClient,
  client,
  email,
  follow,
  latestMail,
  mailsTo,
  signUp,
  variantUrl,
} from './helpers.mjs'

const FIRST_HALF = 'Confirmation link accepted. Please proceed to confirm link sent to the other email'

/** The one message to `to`, an email-change confirmation. */
async function changeMail(to, url) {
  const mails = await mailsTo(to, url)
  assert.equal(mails.length, 1, `mails to ${to}`)
  const [mail] = mails
  assert.equal(mail.kind, 'email_change')
  assert.equal(mail.subject, 'Confirm Email Change')
  assert.match(mail.otp, /^\d{6}$/)
  assert.ok(mail.link.includes('type=email_change'))
  return mail
}

test('updateUser({ email }) under autoconfirm: both addresses get a message, either confirmation completes it', async () => {
  const [before, after] = [email('old'), email('new')]
  const supabase = client()
  await signUp(supabase, before)
  const { data, error } = await supabase.auth.updateUser({ email: after })
  assert.equal(error, null)
  assert.equal(data.user.email, before)
  assert.equal(data.user.new_email, after)
  assert.ok(data.user.email_change_sent_at)
  const toNew = await changeMail(after)
  const toOld = await changeMail(before)
  assert.equal((await supabase.auth.getUser()).data.user.email, before)

  // GoTrue completes a secure change at the first confirmation when autoconfirm is on
  // (supabase/auth#2600), and the other message stops working.
  const done = await supabase.auth.verifyOtp({ email: after, token: toNew.otp, type: 'email_change' })
  assert.equal(done.error, null)
  assert.equal(done.data.user.email, after)
  assert.equal(done.data.user.new_email, undefined)
  const late = await client().auth.verifyOtp({ token_hash: toOld.token_hash, type: 'email_change' })
  assert.equal(late.error.status, 403)
  assert.equal(late.error.code, 'otp_expired')
  assert.equal((await supabase.auth.getUser()).data.user.email, after)
})

test('secure email change with confirmations on: the address changes only after the second confirmation', async () => {
  const url = variantUrl('CONFIRMATIONS')
  const [before, after] = [email('old'), email('new')]
  const created = await adminClient({ url }).auth.admin.createUser({ email: before, password: 'secret123', email_confirm: true })
  assert.equal(created.error, null)
  const supabase = client({ url })
  assert.equal((await supabase.auth.signInWithPassword({ email: before, password: 'secret123' })).error, null)

  assert.equal((await supabase.auth.updateUser({ email: after })).error, null)
  const toNew = await changeMail(after, url)
  const toOld = await changeMail(before, url)

  // First half: the link to the new address answers a message, nothing changes yet.
  const [status, location] = await follow(toNew.link)
  assert.equal(status, 303)
  assert.equal(new URLSearchParams(location.hash.slice(1)).get('message'), FIRST_HALF)
  let me = (await supabase.auth.getUser()).data.user
  assert.equal(me.email, before)
  assert.equal(me.new_email, after)

  // Second half, with the code sent to the current address: changed, and signed in.
  const done = await supabase.auth.verifyOtp({ email: before, token: toOld.otp, type: 'email_change' })
  assert.equal(done.error, null)
  assert.equal(done.data.session.user.email, after)
  me = (await supabase.auth.getUser()).data.user
  assert.equal(me.email, after)
  assert.equal(me.new_email, undefined)
})

test('the first half over verifyOtp answers no session and no user', async () => {
  const url = variantUrl('CONFIRMATIONS')
  const [before, after] = [email('old'), email('new')]
  await adminClient({ url }).auth.admin.createUser({ email: before, password: 'secret123', email_confirm: true })
  const supabase = client({ url })
  await supabase.auth.signInWithPassword({ email: before, password: 'secret123' })
  await supabase.auth.updateUser({ email: after })
  const toOld = await changeMail(before, url)
  const first = await client({ url }).auth.verifyOtp({ token_hash: toOld.token_hash, type: 'email_change' })
  assert.deepEqual(first, { data: { user: null, session: null }, error: null })
  assert.equal((await supabase.auth.getUser()).data.user.email, before)
})

test('updateUser({ email }) without secure email change: one message, to the new address', async () => {
  const url = variantUrl('SECURE_CHANGE_OFF')
  const [before, after] = [email('old'), email('new')]
  const supabase = client({ url })
  await signUp(supabase, before)
  const { data, error } = await supabase.auth.updateUser({ email: after })
  assert.equal(error, null)
  assert.equal(data.user.new_email, after)
  const toNew = await changeMail(after, url)
  assert.deepEqual(await mailsTo(before, url), [])

  const [status, location] = await follow(toNew.link)
  assert.equal(status, 303)
  const fragment = new URLSearchParams(location.hash.slice(1))
  assert.equal(fragment.get('type'), 'email_change')
  assert.ok(fragment.get('access_token'))
  assert.equal((await supabase.auth.getUser()).data.user.email, after)
})

test('signUp of an invited address under autoconfirm confirms it and returns a session', async () => {
  const address = email('invited')
  const invited = await adminClient().auth.admin.inviteUserByEmail(address)
  assert.equal(invited.error, null)
  assert.equal((await latestMail(address)).kind, 'invite')

  const supabase = client()
  const { data, error } = await supabase.auth.signUp({ email: address, password: 'chosen-secret' })
  assert.equal(error, null)
  assert.ok(data.session, 'GoTrue confirms the invited user and signs them in')
  assert.equal(data.user.email, address)
  assert.ok(data.user.email_confirmed_at)
  assert.ok(data.user.invited_at)
  assert.equal((await supabase.auth.getUser()).data.user.id, data.user.id)
  // GoTrue does not store the signup's password for a user it did not create.
  const login = await client().auth.signInWithPassword({ email: address, password: 'chosen-secret' })
  assert.equal(login.error.code, 'invalid_credentials')
})

/** Moves the emulator at `url` a day back (`-86400`) or clears the offset (`null`). */
async function clockOffset(url, secs) {
  const res = await fetch(`${url}/emulator/v1/faults`, {
    method: secs === null ? 'DELETE' : 'POST',
    headers: { apikey: SECRET_KEY, 'content-type': 'application/json' },
    body: secs === null ? undefined : JSON.stringify({ clock_offset_secs: secs }),
  })
  assert.equal(res.status, 200)
}

test('secure_password_change: a recent session changes the password without a nonce', async () => {
  const url = variantUrl('SECURE_PASSWORD')
  const supabase = client({ url })
  await signUp(supabase, email('recent'))
  const { error } = await supabase.auth.updateUser({ password: 'another-secret' })
  assert.equal(error, null)
})

test('secure_password_change: an older session needs reauthenticate() and the nonce', async () => {
  const url = variantUrl('SECURE_PASSWORD')
  const address = email('reauth')
  const supabase = client({ url })
  // Sign in "a day ago", so the session is older than GoTrue's 24 h window.
  await clockOffset(url, -86400)
  try {
    await signUp(supabase, address)
  } finally {
    await clockOffset(url, null)
  }

  const missing = await supabase.auth.updateUser({ password: 'another-secret' })
  assert.equal(missing.error.status, 400)
  assert.equal(missing.error.code, 'reauthentication_needed')

  const sent = await supabase.auth.reauthenticate()
  assert.deepEqual(sent, { data: { user: null, session: null }, error: null })
  const mail = await latestMail(address, url)
  assert.equal(mail.kind, 'reauthentication')
  assert.equal(mail.subject, 'Confirm Reauthentication')
  assert.match(mail.otp, /^\d{6}$/)
  assert.ok(mail.html.includes(mail.otp))

  const wrongNonce = mail.otp === '000000' ? '000001' : '000000'
  const wrong = await supabase.auth.updateUser({ password: 'another-secret', nonce: wrongNonce })
  assert.equal(wrong.error.status, 422)
  assert.equal(wrong.error.code, 'reauthentication_not_valid')

  const ok = await supabase.auth.updateUser({ password: 'another-secret', nonce: mail.otp })
  assert.equal(ok.error, null)
  assert.equal(ok.data.user.email, address)
  const login = await client({ url }).auth.signInWithPassword({ email: address, password: 'another-secret' })
  assert.equal(login.error, null)
})
