// Admin API with the secret key; the publishable key is not enough.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { adminClient, client, email } from './helpers.mjs'

test('admin.createUser with the secret key, then list, get, update, generateLink, delete', async () => {
  const admin = adminClient()
  const address = email('admin')
  const created = await admin.auth.admin.createUser({
    email: address, password: 'secret123', email_confirm: true, user_metadata: { name: 'Ada' }, app_metadata: { tier: 'gold' },
  })
  assert.equal(created.error, null)
  const user = created.data.user
  assert.equal(user.email, address)
  assert.equal(typeof user.email_confirmed_at, 'string')
  assert.deepEqual(user.user_metadata, { email_verified: true, name: 'Ada' })
  assert.deepEqual(user.app_metadata, { provider: 'email', providers: ['email'], tier: 'gold' })

  const login = await client().auth.signInWithPassword({ email: address, password: 'secret123' })
  assert.equal(login.error, null)
  assert.equal(login.data.user.id, user.id)

  const list = await admin.auth.admin.listUsers({ page: 1, perPage: 1000 })
  assert.equal(list.error, null)
  assert.ok(list.data.users.some((u) => u.id === user.id))
  assert.ok(list.data.total >= 1)

  const got = await admin.auth.admin.getUserById(user.id)
  assert.equal(got.data.user.email, address)

  const updated = await admin.auth.admin.updateUserById(user.id, { user_metadata: { team: 'core' } })
  assert.equal(updated.error, null)
  assert.deepEqual(updated.data.user.user_metadata, { email_verified: true, name: 'Ada', team: 'core' })

  const link = await admin.auth.admin.generateLink({ type: 'magiclink', email: address })
  assert.equal(link.error, null)
  assert.equal(link.data.properties.verification_type, 'magiclink')
  assert.match(link.data.properties.email_otp, /^\d{6}$/)
  assert.ok(link.data.properties.action_link.includes(`token=${link.data.properties.hashed_token}`))
  assert.equal(link.data.user.id, user.id)

  const dup = await admin.auth.admin.createUser({ email: address, password: 'secret123' })
  assert.equal(dup.error.status, 422)
  assert.equal(dup.error.code, 'email_exists')

  const deleted = await admin.auth.admin.deleteUser(user.id)
  assert.equal(deleted.error, null)
  const after = await admin.auth.admin.getUserById(user.id)
  assert.equal(after.error.status, 404)
  assert.equal(after.error.code, 'user_not_found')
})

test('the publishable key cannot use the admin API', async () => {
  const anon = client()
  const { data, error } = await anon.auth.admin.createUser({ email: email('nope'), password: 'secret123' })
  assert.equal(data.user, null)
  assert.equal(error.status, 403)
  assert.equal(error.code, 'not_admin')
  assert.equal(error.message, 'User not allowed')
})
