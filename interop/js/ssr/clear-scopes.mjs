// Runs @supabase/ssr's clearAuthCookiesAtScopes (the pinned package) for the scenarios
// on stdin and prints what it handed to setAll, for crates/supabase-ssr/tests/interop_scopes.rs.
//
// stdin:  [{"cookies": [[name, value], ...], "storageKey": "...", "scopes": [{...}, ...]}, ...]
// stdout: [{"setAll": [{"cookies": [{name, value, options, header}], "headers": {...}}]}, ...]
//         (`header` is serializeCookieHeader(name, value, options), the Set-Cookie line)

import { clearAuthCookiesAtScopes } from "@supabase/ssr";
import { setAllRecord } from "./set-all-record.mjs";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const results = [];
for (const scenario of input) {
  const setAll = [];
  await clearAuthCookiesAtScopes({
    getAll: () => scenario.cookies.map(([name, value]) => ({ name, value })),
    setAll: (cookies, headers) => {
      setAll.push(setAllRecord(cookies, headers));
    },
    storageKey: scenario.storageKey,
    scopes: scenario.scopes,
  });
  results.push({ setAll });
}
process.stdout.write(JSON.stringify(results));
