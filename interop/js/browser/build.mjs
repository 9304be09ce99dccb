// Bundles the demo's /browser-client page script (the official createBrowserClient from
// @supabase/ssr, as pinned in package-lock.json) into one ES module with the pinned esbuild.
// The result is committed as examples/demo/static/supabase-browser.js, so the demo works
// without Node; examples/demo/tests/browser_bundle.rs rebuilds it and requires the same bytes.
//
//   npm run build:browser                (in interop/js, after npm ci)
//   node browser/build.mjs [outfile]     (default: the committed file)
//
// The output depends only on the installed packages and this file: fixed esbuild options,
// paths relative to interop/js, no timestamps, packages in sorted order. The bundled packages
// carry no license comments of their own, so their names, versions and license texts are
// written into the file here.
import { build, version as esbuildVersion } from 'esbuild'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const jsDir = resolve(here, '..')
const committed = resolve(jsDir, '..', '..', 'examples', 'demo', 'static', 'supabase-browser.js')
const outfile = resolve(process.argv[2] ?? committed)

/** The npm package an input path belongs to (`node_modules/@scope/name/...`), if any. */
function packageDir(input) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
  return match?.[1]
}

/** Name, version, license and license text of every package with code in the bundle. */
function bundledPackages(metafile) {
  const dirs = new Set()
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const dir = packageDir(input)
      if (dir && bytesInOutput > 0) dirs.add(dir)
    }
  }
  return [...dirs].sort().map((dir) => {
    const manifest = JSON.parse(readFileSync(join(jsDir, dir, 'package.json'), 'utf8'))
    const file = readdirSync(join(jsDir, dir))
      .filter((name) => /^licen[cs]e(\.(md|txt))?$/i.test(name))
      .sort()[0]
    if (!file) throw new Error(`${dir} ships no LICENSE file to include`)
    const text = readFileSync(join(jsDir, dir, file), 'utf8').replace(/\r\n/g, '\n').trim()
    if (text.includes('*/')) throw new Error(`${dir}/${file} would end the comment holding it`)
    return { name: manifest.name, version: manifest.version, license: manifest.license, text }
  })
}

try {
  const result = await build({
    absWorkingDir: jsDir,
    entryPoints: ['browser/client-entry.mjs'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    charset: 'ascii',
    legalComments: 'eof',
    sourcemap: false,
    metafile: true,
    write: false,
    logLevel: 'warning',
  })
  const [output] = result.outputFiles
  const packages = bundledPackages(result.metafile)
  const header = [
    '/*',
    ' * The script of the supabase-ssr demo\'s /browser-client page: interop/js/browser/client-entry.mjs',
    ` * and the packages below, bundled with esbuild ${esbuildVersion} by interop/js/browser/build.mjs.`,
    ' * Generated: do not edit. Rebuild: cd interop/js && npm ci && npm run build:browser',
    ' *',
    ' * Bundled packages (their license texts are at the end of this file):',
    ...packages.map((p) => ` *   ${p.name} ${p.version} (${p.license})`),
    ' */',
    '',
  ].join('\n')
  const notices = [
    '/*',
    ' * License texts of the bundled packages.',
    ...packages.flatMap((p) => [
      ' *',
      ` * ${p.name} ${p.version}`,
      ' *',
      ...p.text.split('\n').map((line) => (line ? ` * ${line}` : ' *')),
    ]),
    ' */',
    '',
  ].join('\n')
  mkdirSync(dirname(outfile), { recursive: true })
  writeFileSync(outfile, header + output.text + notices)
  console.log(`built ${outfile}`)
} catch (error) {
  console.error(`build.mjs failed: ${error.message}`)
  process.exit(1)
}
