// The official JS equivalent of our proxy, for the load benchmark (`cargo run --release
// -p bench -- http`): a node:http server that, for every request, does what the
// @supabase/ssr docs tell a proxy to do: createServerClient over the request's cookies,
// then supabase.auth.getClaims() (verified locally against the project's JWKS, which
// auth-js caches), writing any cookies it is handed to the response.
//
// Usage: node --experimental-websocket interop/js/bench/server.mjs \
//          --mode ssr|bare [--url http://127.0.0.1:PORT --key sb_publishable_...] [--port 0]
//   ssr:  the proxy work above, then "Hello, World!" (401 when there are no claims)
//   bare: "Hello, World!" with no auth at all (the floor for node:http)
// Prints "listening <port>" on stdout once it accepts connections; stops on SIGTERM or
// when stdin closes (so it never outlives the benchmark that started it).
// (Node < 22 needs --experimental-websocket: supabase-js always builds a Realtime
// client, which wants a global WebSocket.)

import http from 'node:http'
import { createServerClient, parseCookieHeader, serializeCookieHeader } from '@supabase/ssr'

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

const mode = arg('mode', 'ssr')
const url = arg('url', '')
const key = arg('key', '')
const port = Number(arg('port', '0'))
if (mode !== 'ssr' && mode !== 'bare') {
  console.error(`unknown --mode ${mode}`)
  process.exit(2)
}
if (mode === 'ssr' && (!url || !key)) {
  console.error('--mode ssr needs --url and --key')
  process.exit(2)
}

const BODY = 'Hello, World!'

async function proxy(req, res) {
  const supabase = createServerClient(url, key, {
    cookies: {
      getAll() {
        return parseCookieHeader(req.headers.cookie ?? '')
      },
      setAll(cookiesToSet, headers) {
        for (const { name, value, options } of cookiesToSet) {
          res.appendHeader('Set-Cookie', serializeCookieHeader(name, value, options))
        }
        for (const [name, value] of Object.entries(headers ?? {})) {
          res.setHeader(name, value)
        }
      },
    },
  })
  const { data, error } = await supabase.auth.getClaims()
  if (error || !data?.claims) {
    res.writeHead(401, { 'content-type': 'text/plain' })
    res.end('unauthorized')
    return
  }
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
  res.end(BODY)
}

const server = http.createServer((req, res) => {
  if (mode === 'bare') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(BODY)
    return
  }
  proxy(req, res).catch((e) => {
    console.error(e)
    res.writeHead(500)
    res.end()
  })
})
server.keepAliveTimeout = 60_000

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})

const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
