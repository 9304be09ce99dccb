-- What a Supabase database already provides for row-level security, recreated for local
-- development and tests. Do not run it on Supabase: everything here exists there.
--
-- Idempotent: safe to run twice, and on a server where the roles already exist. Run it as
-- a superuser (creating a `bypassrls` role needs one).
--
-- Like newer Supabase projects, it grants nothing on tables: each table needs explicit
-- grants (`grant select on public.notes to authenticated`) and row-level security
-- policies before the API roles can see a row of it.

-- The API roles. Nobody logs in as them; the connecting role switches to them per
-- transaction (`set_config('role', ...)`). Existing roles are left as they are.
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  -- The admin role: row-level security does not apply to it.
  if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;

-- The connecting role (here: whoever runs this script) must be a member of the API roles
-- to `set role` to them, as Supabase's `postgres` and `authenticator` are. Granting an
-- existing membership again only raises a notice.
do $$
declare
  api_role text;
begin
  foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
    if api_role <> current_user then
      execute format('grant %I to %I', api_role, current_user);
    end if;
  end loop;
end
$$;

-- The functions row-level security policies call, in the form Supabase's databases
-- define them. They read the claims the scoped transaction sets in
-- `request.jwt.claims` (and the older per-claim settings `request.jwt.claim.*`).
-- `nullif(..., '')`: once a connection has run a scoped transaction, the setting exists
-- but is empty outside one, and `''::jsonb` would be an error instead of null.
create schema if not exists auth;

-- The user's id: the `sub` claim, or null when signed out.
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

-- The `role` claim: `authenticated` or `anon`.
create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

-- All the claims, custom ones included: `auth.jwt() ->> 'email'`,
-- `auth.jwt() -> 'app_metadata'`.
create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;
grant execute on function auth.uid(), auth.role(), auth.jwt()
  to anon, authenticated, service_role;
