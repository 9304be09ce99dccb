// The official supabase-js (pinned in package.json) calling an API of ours the way an app
// calls an Edge Function: `supabase.functions.invoke(name)`, signed out and then signed
// in. The client's `global.fetch` sends `<project>/functions/v1/<name>` to the API under
// test instead, unchanged otherwise, and records the credentials supabase-js attached.
//
// Usage: node api/supabase-js-calls.mjs <project url> <publishable key> <api url> <email> <password>
// Prints one JSON object: every call's status and body, and the headers seen.
import { createClient } from '@supabase/supabase-js'

const [projectUrl, key, apiUrl, email, password] = process.argv.slice(2)
const functionsPath = '/functions/v1/'
const seen = []

function route(input) {
  const url = new URL(typeof input === 'string' ? input : input.url)
  if (!url.pathname.startsWith(functionsPath)) return url.toString()
  return `${apiUrl}/${url.pathname.slice(functionsPath.length)}${url.search}`
}

const supabase = createClient(projectUrl, key, {
  auth: { persistSession: false, autoRefreshToken: false },
  global: {
    fetch: (input, init) => {
      const url = route(input)
      if (url.startsWith(apiUrl)) {
        const headers = new Headers(init?.headers)
        seen.push({
          path: new URL(url).pathname,
          apikey: headers.get('apikey'),
          authorization: headers.get('authorization'),
        })
      }
      return fetch(url, init)
    },
  },
})

/** One `functions.invoke`: the status and the JSON body, success or not. */
async function call(name, options) {
  const { data, error, response } = await supabase.functions.invoke(name, options)
  if (!error) return { status: response.status, body: data }
  const failed = error.context
  if (!(failed instanceof Response)) return { status: null, error: String(error) }
  return { status: failed.status, body: await failed.json() }
}

const out = {}
out.signedOutOptional = await call('me-optional', { method: 'GET' })
out.signedOutMe = await call('me', { method: 'GET' })
const { data: signedIn, error } = await supabase.auth.signInWithPassword({ email, password })
if (error) throw error
out.userId = signedIn.user.id
out.token = signedIn.session.access_token
out.me = await call('me', { method: 'GET' })
out.created = await call('notes', { body: { body: 'from supabase-js ✓' } })
out.notes = await call('notes', { method: 'GET' })
out.seen = seen
console.log(JSON.stringify(out))
process.exit(0)
