// One setAll call as the interop scripts report it to the Rust tests: each cookie with its
// Set-Cookie line (`header`, serializeCookieHeader(name, value, options)), and the headers.

import { serializeCookieHeader } from "@supabase/ssr";

export function setAllRecord(cookies, headers) {
  return {
    cookies: cookies.map(({ name, value, options }) => ({
      name,
      value,
      options,
      header: serializeCookieHeader(name, value, options),
    })),
    headers: { ...headers },
  };
}
