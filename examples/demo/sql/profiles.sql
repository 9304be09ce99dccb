-- Each user's profile, made by a trigger when the Auth server adds the user: the pattern
-- of Supabase's user-management guide. Needs `auth.users` (a Supabase database, or the
-- Auth emulator's PostgreSQL store) and the API roles of `supabase_bootstrap.sql`.
--
-- Idempotent: the demo and notes-api run it at every start, once the emulator has made
-- `auth.users` and before they add their first user. Users already there (a database
-- reused through DATABASE_URL) get their profile at the end.

create table if not exists public.profiles (
  -- Deleting the user (the Auth admin API) deletes the profile.
  id uuid not null primary key references auth.users (id) on delete cascade,
  display_name text,
  created_at timestamptz not null default now()
);

alter table public.profiles enable row level security;

-- `(select auth.uid())` rather than `auth.uid()`: evaluated once per statement.
drop policy if exists "profiles: owners read" on public.profiles;
create policy "profiles: owners read" on public.profiles
  for select to authenticated
  using ((select auth.uid()) = id);

-- Read only: rows are written by the trigger alone. `anon` gets nothing.
grant select on public.profiles to authenticated;

-- The name chosen at sign-up (`display_name`, as the demo's form sends it; `full_name`,
-- as OAuth providers do), else the email's local part; NULL for a user without either
-- (phone-only, anonymous).
create or replace function public.profile_display_name(u auth.users)
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce(
    nullif(trim(u.raw_user_meta_data ->> 'display_name'), ''),
    nullif(trim(u.raw_user_meta_data ->> 'full_name'), ''),
    nullif(split_part(u.email, '@', 1), '')
  )
$$;

-- Not an API: only the trigger (running as this file's owner) calls it.
revoke execute on function public.profile_display_name(auth.users) from public, anon, authenticated;

-- `security definer`: it runs as its owner, whatever role inserted the user (GoTrue's
-- `supabase_auth_admin`, the emulator's connection), so the insert bypasses the table's
-- RLS. An empty `search_path` and fully qualified names, so no schema the inserting role
-- controls can stand in for ours.
create or replace function public.create_profile_for_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, display_name)
  values (new.id, public.profile_display_name(new));
  return new;
end
$$;

create or replace trigger create_profile_after_insert
  after insert on auth.users
  for each row execute function public.create_profile_for_new_user();

insert into public.profiles (id, display_name)
select u.id, public.profile_display_name(u)
from auth.users as u
on conflict (id) do nothing;
