-- An example table under row-level security: each user sees and changes only their own
-- notes; signed-out requests (`anon`) get nothing. Used by this crate's tests; needs
-- `supabase_bootstrap.sql` (or a Supabase database) first.
--
-- No foreign key to `auth.users(id)`, which a Supabase schema would usually have: this
-- crate's tests run without an Auth server's tables. The demo's `sql/profiles.sql` has
-- one, on the Auth emulator's PostgreSQL store.

create table public.notes (
  id bigint generated always as identity primary key,
  -- Filled in from the caller's token, so an insert need not (and cannot) name a user.
  user_id uuid not null default auth.uid(),
  body text not null
);

alter table public.notes enable row level security;

-- `(select auth.uid())` rather than `auth.uid()`: evaluated once per statement, not once
-- per row.
create policy "notes: owners read" on public.notes
  for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "notes: owners insert" on public.notes
  for insert to authenticated
  with check ((select auth.uid()) = user_id);

create policy "notes: owners update" on public.notes
  for update to authenticated
  using ((select auth.uid()) = user_id)
  with check ((select auth.uid()) = user_id);

create policy "notes: owners delete" on public.notes
  for delete to authenticated
  using ((select auth.uid()) = user_id);

-- Policies decide rows; grants decide whether the role may touch the table at all.
-- `anon` gets nothing.
grant select, insert, update, delete on public.notes to authenticated;
