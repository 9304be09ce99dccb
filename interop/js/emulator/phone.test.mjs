// Phone sign-up and sign-in with supabase-js: signUp/signInWithPassword with a phone,
// signInWithOtp + the SMS in the inbox + verifyOtp, admin-created phone users, wrong codes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { adminClient, claimsOf, client, latestSms, phone } from './helpers.mjs'

const digits = (number) => number.slice(1)
const methods = (session) => claimsOf(session.access_token).amr.map((a) => a.method)

test('signUp({ phone, password }) is confirmed at once; signInWithPassword({ phone })', async () => {
  const number = phone()
  const supabase = client()
  const { data, error } = await supabase.auth.signUp({ phone: number, password: 'secret123', options: { data: { name: 'Ann' } } })
  assert.equal(error, null)
  assert.ok(data.session, 'phone autoconfirm is on by default')
  assert.equal(data.user.phone, digits(number))
  assert.ok(data.user.phone_confirmed_at)
  assert.equal(data.user.user_metadata.name, 'Ann')
  assert.deepEqual(data.user.identities.map((i) => i.provider), ['phone'])
  assert.deepEqual(data.user.app_metadata, { provider: 'phone', providers: ['phone'] })
  assert.equal(claimsOf(data.session.access_token).phone, digits(number))

  const signedIn = await client().auth.signInWithPassword({ phone: number, password: 'secret123' })
  assert.equal(signedIn.error, null)
  assert.equal(signedIn.data.user.id, data.user.id)
  assert.deepEqual(methods(signedIn.data.session), ['password'])

  const wrong = await client().auth.signInWithPassword({ phone: number, password: 'not-it-123' })
  assert.equal(wrong.error.status, 400)
  assert.equal(wrong.error.code, 'invalid_credentials')
})

test('signInWithOtp({ phone }): the SMS in the inbox, then verifyOtp type sms', async () => {
  const number = phone()
  const supabase = client()
  const sent = await supabase.auth.signInWithOtp({ phone: number })
  assert.equal(sent.error, null)
  assert.equal(sent.data.session, null)

  const sms = await latestSms(number)
  assert.equal(sms.to, number)
  assert.equal(sms.kind, 'sms')
  assert.equal(sms.channel, 'sms')
  assert.match(sms.otp, /^\d{6}$/)
  assert.equal(sms.body, `Your code is ${sms.otp}`)

  const { data, error } = await supabase.auth.verifyOtp({ phone: number, token: sms.otp, type: 'sms' })
  assert.equal(error, null)
  assert.equal(data.user.phone, digits(number))
  assert.ok(data.user.phone_confirmed_at)
  assert.deepEqual(methods(data.session), ['otp'])
  assert.equal((await supabase.auth.getUser()).data.user.id, data.user.id)

  const again = await client().auth.signInWithOtp({ phone: number })
  assert.equal(again.error.status, 429)
  assert.equal(again.error.code, 'over_sms_send_rate_limit')
})

test('a wrong or reused code is refused', async () => {
  const number = phone()
  assert.equal((await client().auth.signInWithOtp({ phone: number })).error, null)
  const sms = await latestSms(number)
  const wrongCode = sms.otp === '000000' ? '111111' : '000000'

  const wrong = await client().auth.verifyOtp({ phone: number, token: wrongCode, type: 'sms' })
  assert.equal(wrong.error.status, 403)
  assert.equal(wrong.error.code, 'otp_expired')
  assert.equal(wrong.error.message, 'Token has expired or is invalid')

  assert.equal((await client().auth.verifyOtp({ phone: number, token: sms.otp, type: 'sms' })).error, null)
  const reused = await client().auth.verifyOtp({ phone: number, token: sms.otp, type: 'sms' })
  assert.equal(reused.error.code, 'otp_expired')

  const badNumber = await client().auth.signInWithOtp({ phone: '+1-555-0100' })
  assert.equal(badNumber.error.status, 400)
  assert.equal(badNumber.error.code, 'validation_failed')
  assert.equal(badNumber.error.message, 'Invalid phone number format (E.164 required)')

  const noSignup = await client().auth.signInWithOtp({ phone: phone(), options: { shouldCreateUser: false } })
  assert.equal(noSignup.error.status, 422)
  assert.equal(noSignup.error.code, 'otp_disabled')
})

test('an admin-created phone user signs in with password and with a code', async () => {
  const number = phone()
  const created = await adminClient().auth.admin.createUser({ phone: number, password: 'secret123', phone_confirm: true })
  assert.equal(created.error, null)
  assert.equal(created.data.user.phone, digits(number))

  const byPassword = await client().auth.signInWithPassword({ phone: number, password: 'secret123' })
  assert.equal(byPassword.error, null)
  assert.equal(byPassword.data.user.id, created.data.user.id)

  const supabase = client()
  assert.equal((await supabase.auth.signInWithOtp({ phone: number, options: { shouldCreateUser: false } })).error, null)
  const sms = await latestSms(number)
  const { data, error } = await supabase.auth.verifyOtp({ phone: number, token: sms.otp, type: 'sms' })
  assert.equal(error, null)
  assert.equal(data.user.id, created.data.user.id)
  assert.deepEqual(methods(data.session), ['otp'])

  const unconfirmed = phone()
  assert.equal((await adminClient().auth.admin.createUser({ phone: unconfirmed, password: 'secret123' })).error, null)
  const refused = await client().auth.signInWithPassword({ phone: unconfirmed, password: 'secret123' })
  assert.equal(refused.error.status, 400)
  assert.equal(refused.error.code, 'phone_not_confirmed')
})
