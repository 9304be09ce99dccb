// Bundles the demo's /browser-client page script (the official createBrowserClient from
// @supabase/ssr) into one browser file with esbuild. The output is not committed.
//
//   node browser/build.mjs [outfile]     (run in interop/js; default dist/supabase-browser.js)
import { build } from 'esbuild'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const outfile = resolve(process.argv[2] ?? join(here, '..', 'dist', 'supabase-browser.js'))

try {
  await build({
    entryPoints: [join(here, 'client-entry.mjs')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  })
  console.log(`built ${outfile}`)
} catch (error) {
  console.error(`esbuild failed: ${error.message}`)
  process.exit(1)
}
