// The script of the demo's /browser-client page: the official @supabase/ssr browser client
// reads the session the Rust server wrote into document.cookie, then asks the Auth server
// who the user is. Bundled by build.mjs.
import { createBrowserClient } from '@supabase/ssr'

function show(id, text) {
  const el = document.getElementById(id)
  if (el) el.textContent = text
}

function sessionCookieNames() {
  return document.cookie
    .split(';')
    .map((part) => part.trim().split('=')[0])
    .filter((name) => name.startsWith('sb-'))
}

async function main() {
  const root = document.getElementById('browser-client')
  if (!root) return
  const { supabaseUrl, supabaseKey } = root.dataset
  try {
    show('browser-cookies', sessionCookieNames().join(', ') || '(none)')
    const supabase = createBrowserClient(supabaseUrl, supabaseKey)

    const { data: sessionData, error: sessionError } = await supabase.auth.getSession()
    if (sessionError) throw sessionError
    const session = sessionData.session
    if (!session) {
      show('browser-status', 'No session in document.cookie: sign in first.')
      root.dataset.state = 'signed-out'
      return
    }
    show('browser-session-email', session.user?.email ?? '(no email)')
    show('browser-session-expires', new Date(session.expires_at * 1000).toISOString())

    // A round trip to the Auth server (cross-origin: the server answers CORS).
    const { data: userData, error: userError } = await supabase.auth.getUser()
    if (userError) throw userError
    show('browser-user-email', userData.user?.email ?? '(no email)')
    show('browser-user-id', userData.user?.id ?? '')
    show(
      'browser-status',
      'The official browser client read the session the Rust server wrote, and the Auth server confirmed the user.',
    )
    root.dataset.state = 'ok'
  } catch (error) {
    show('browser-status', `Error: ${error?.message ?? error}`)
    root.dataset.state = 'error'
  }
}

main()
