-- The emulator's tables on PostgreSQL (15 or newer), run at every start.
--
-- The tables GoTrue owns live in schema `auth` and follow GoTrue's own definitions
-- (column names, types, defaults, nullability, cascades, unique indexes), so an app can
-- write `references auth.users(id)` or `after insert on auth.users` as it would on
-- Supabase, and a seed.sql written for Supabase inserts into them unchanged. Tables
-- only the emulator needs live in schema `auth_emulator`.
--
-- Where this file differs from GoTrue:
--   * GoTrue's enum types (aal_level, factor_type, factor_status, code_challenge_method,
--     one_time_token_type) are `text` with a CHECK listing the same values, so the
--     emulator can bind plain text.
--   * mfa_challenges.ip_address is `text`, not `inet`, for the same reason.
--   * A few emulator-only columns: sessions.amr (GoTrue keeps AMR in its own
--     mfa_amr_claims table) and flow_state.redirect_to.
--   * one_time_tokens.id gets a default, as the emulator does not choose token ids.
--   * Columns pointing at GoTrue tables the emulator lacks (oauth_clients, ...) are kept
--     without their foreign key.
--   * Row-level security is not enabled on the auth tables (GoTrue enables it): the
--     emulator's connection may not own them.
--   * Triggers turn the emulator's '' into GoTrue's NULL where GoTrue's unique indexes
--     rely on NULL (users.email, users.phone, mfa_factors.phone).
--
-- Not here: auth.uid(), auth.role(), auth.jwt() and the API roles. See
-- crates/supabase-ssr-postgres/sql/supabase_bootstrap.sql.
--
-- Idempotent: every statement can run again on a database that already has the objects.
-- Connections use `search_path = auth, auth_emulator`, so the emulator's queries name
-- tables without a schema.

create schema if not exists auth;
create schema if not exists auth_emulator;

-- ---------------------------------------------------------------------------------
-- auth.users
-- ---------------------------------------------------------------------------------

-- Columns in the order they have on a Supabase database. The emulator's SQLite
-- `new_email`/`new_phone` are GoTrue's `email_change`/`phone_change` here.
create table if not exists auth.users (
    instance_id uuid null,
    id uuid not null primary key,
    aud varchar(255) null,
    role varchar(255) null,
    email varchar(255) null,
    encrypted_password varchar(255) null,
    email_confirmed_at timestamptz null,
    invited_at timestamptz null,
    confirmation_token varchar(255) null,
    confirmation_sent_at timestamptz null,
    recovery_token varchar(255) null,
    recovery_sent_at timestamptz null,
    email_change_token_new varchar(255) null,
    email_change varchar(255) null,
    email_change_sent_at timestamptz null,
    last_sign_in_at timestamptz null,
    raw_app_meta_data jsonb null,
    raw_user_meta_data jsonb null,
    is_super_admin boolean null,
    created_at timestamptz null,
    updated_at timestamptz null,
    phone text null default null unique,
    phone_confirmed_at timestamptz null default null,
    phone_change text null default '',
    phone_change_token varchar(255) null default '',
    phone_change_sent_at timestamptz null default null,
    confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
    email_change_token_current varchar(255) null default '',
    email_change_confirm_status smallint null default 0
        check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
    banned_until timestamptz null,
    reauthentication_token varchar(255) null default '',
    reauthentication_sent_at timestamptz null default null,
    is_sso_user boolean not null default false,
    deleted_at timestamptz null,
    is_anonymous boolean not null default false
);

-- One account per email, except SSO accounts (which may share one). NULL emails
-- (phone-only and anonymous users) never collide.
create unique index if not exists users_email_partial_key
    on auth.users (email) where (is_sso_user = false);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower(email));
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);
-- Token columns are unique unless empty, blank or a numeric OTP.
create unique index if not exists confirmation_token_idx
    on auth.users (confirmation_token) where confirmation_token !~ '^[0-9 ]*$';
create unique index if not exists recovery_token_idx
    on auth.users (recovery_token) where recovery_token !~ '^[0-9 ]*$';
create unique index if not exists email_change_token_current_idx
    on auth.users (email_change_token_current) where email_change_token_current !~ '^[0-9 ]*$';
create unique index if not exists email_change_token_new_idx
    on auth.users (email_change_token_new) where email_change_token_new !~ '^[0-9 ]*$';
create unique index if not exists reauthentication_token_idx
    on auth.users (reauthentication_token) where reauthentication_token !~ '^[0-9 ]*$';

-- ---------------------------------------------------------------------------------
-- auth.identities
-- ---------------------------------------------------------------------------------

create table if not exists auth.identities (
    provider_id text not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    identity_data jsonb not null,
    provider text not null,
    last_sign_in_at timestamptz null,
    created_at timestamptz null,
    updated_at timestamptz null,
    email text generated always as (lower(identity_data ->> 'email')) stored,
    id uuid not null default gen_random_uuid() primary key,
    constraint identities_provider_id_provider_unique unique (provider_id, provider)
);

create index if not exists identities_user_id_idx on auth.identities (user_id);
create index if not exists identities_email_idx on auth.identities (email text_pattern_ops);

-- ---------------------------------------------------------------------------------
-- auth.sessions
-- ---------------------------------------------------------------------------------

create table if not exists auth.sessions (
    id uuid not null primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    created_at timestamptz null,
    updated_at timestamptz null,
    factor_id uuid null,
    -- GoTrue's aal_level enum.
    aal text null check (aal in ('aal1', 'aal2', 'aal3')),
    not_after timestamptz null,
    -- GoTrue uses a timestamp without time zone here.
    refreshed_at timestamp null,
    user_agent text null,
    ip inet null,
    tag text null,
    -- GoTrue's foreign key to oauth_clients is left out: the emulator has no such table.
    oauth_client_id uuid null,
    refresh_token_hmac_key text null,
    refresh_token_counter bigint null,
    scopes text null check (char_length(scopes) <= 4096),
    -- Emulator only: the session's AMR entries, newest first, as
    -- [{"method": ..., "timestamp": ...}]. GoTrue keeps them in mfa_amr_claims.
    amr jsonb not null default '[]'
);

create index if not exists sessions_user_id_idx on auth.sessions (user_id);
create index if not exists user_id_created_at_idx on auth.sessions (user_id, created_at);
create index if not exists sessions_not_after_idx on auth.sessions (not_after desc);
create index if not exists sessions_oauth_client_id_idx on auth.sessions (oauth_client_id);

-- ---------------------------------------------------------------------------------
-- auth.refresh_tokens
-- ---------------------------------------------------------------------------------

create table if not exists auth.refresh_tokens (
    instance_id uuid null,
    id bigserial not null primary key,
    token varchar(255) null,
    -- Text, not uuid, in GoTrue too.
    user_id varchar(255) null,
    revoked boolean null,
    created_at timestamptz null,
    updated_at timestamptz null,
    parent varchar(255) null,
    session_id uuid null references auth.sessions (id) on delete cascade,
    constraint refresh_tokens_token_unique unique (token)
);

create index if not exists refresh_tokens_instance_id_idx on auth.refresh_tokens (instance_id);
create index if not exists refresh_tokens_instance_id_user_id_idx
    on auth.refresh_tokens (instance_id, user_id);
create index if not exists refresh_tokens_parent_idx on auth.refresh_tokens (parent);
create index if not exists refresh_tokens_session_id_revoked_idx
    on auth.refresh_tokens (session_id, revoked);
create index if not exists refresh_tokens_updated_at_idx on auth.refresh_tokens (updated_at desc);

-- ---------------------------------------------------------------------------------
-- auth.mfa_factors
-- ---------------------------------------------------------------------------------

create table if not exists auth.mfa_factors (
    id uuid not null primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    friendly_name text null,
    -- GoTrue's factor_type enum.
    factor_type text not null check (factor_type in ('totp', 'webauthn', 'phone')),
    -- GoTrue's factor_status enum.
    status text not null check (status in ('unverified', 'verified')),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    secret text null,
    phone text null default null,
    last_challenged_at timestamptz null default null unique,
    web_authn_credential jsonb null,
    web_authn_aaguid uuid null,
    last_webauthn_challenge_data jsonb null
);

create unique index if not exists mfa_factors_user_friendly_name_unique
    on auth.mfa_factors (friendly_name, user_id) where trim(friendly_name) <> '';
-- One factor per phone number and user; TOTP and WebAuthn factors have a NULL phone.
create unique index if not exists unique_phone_factor_per_user
    on auth.mfa_factors (user_id, phone);
create index if not exists factor_id_created_at_idx on auth.mfa_factors (user_id, created_at);
create index if not exists mfa_factors_user_id_idx on auth.mfa_factors (user_id);

-- ---------------------------------------------------------------------------------
-- auth.mfa_challenges
-- ---------------------------------------------------------------------------------

create table if not exists auth.mfa_challenges (
    id uuid not null primary key,
    factor_id uuid not null references auth.mfa_factors (id) on delete cascade,
    created_at timestamptz not null,
    verified_at timestamptz null,
    -- `inet` in GoTrue; text so the emulator can bind a string.
    ip_address text not null,
    otp_code text null,
    web_authn_session_data jsonb null
);

create index if not exists mfa_challenge_created_at_idx on auth.mfa_challenges (created_at desc);
-- Emulator only (GoTrue has none): expiring unchallenged factors looks challenges up by factor.
create index if not exists mfa_challenges_factor_id_idx on auth.mfa_challenges (factor_id);

-- ---------------------------------------------------------------------------------
-- auth.one_time_tokens
-- ---------------------------------------------------------------------------------

create table if not exists auth.one_time_tokens (
    -- GoTrue has no default here; the emulator does not pick ids for tokens.
    id uuid not null default gen_random_uuid() primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    -- GoTrue's one_time_token_type enum.
    token_type text not null check (token_type in (
        'confirmation_token',
        'reauthentication_token',
        'recovery_token',
        'email_change_token_new',
        'email_change_token_current',
        'phone_change_token'
    )),
    token_hash text not null check (char_length(token_hash) > 0),
    relates_to text not null,
    -- GoTrue uses timestamps without time zone here.
    created_at timestamp not null default now(),
    updated_at timestamp not null default now()
);

-- At most one token of each kind per user; the emulator upserts on (user_id, token_type).
create unique index if not exists one_time_tokens_user_id_token_type_key
    on auth.one_time_tokens (user_id, token_type);
create index if not exists one_time_tokens_token_hash_hash_idx
    on auth.one_time_tokens using hash (token_hash);
create index if not exists one_time_tokens_relates_to_hash_idx
    on auth.one_time_tokens using hash (relates_to);

-- ---------------------------------------------------------------------------------
-- auth.flow_state
-- ---------------------------------------------------------------------------------

create table if not exists auth.flow_state (
    id uuid not null primary key,
    user_id uuid null,
    auth_code text null,
    -- GoTrue's code_challenge_method enum, plus '': the emulator writes '' for a flow
    -- without PKCE, where GoTrue writes NULL.
    code_challenge_method text null check (code_challenge_method in ('s256', 'plain', '')),
    code_challenge text null,
    provider_type text not null,
    provider_access_token text null,
    provider_refresh_token text null,
    created_at timestamptz null,
    updated_at timestamptz null,
    authentication_method text not null,
    auth_code_issued_at timestamptz null,
    invite_token text null,
    referrer text null,
    oauth_client_state_id uuid null,
    linking_target_id uuid null,
    email_optional boolean not null default false,
    -- Emulator only: where the flow sends the browser back to.
    redirect_to text not null default ''
);

create index if not exists idx_auth_code on auth.flow_state (auth_code);
create index if not exists idx_user_id_auth_method on auth.flow_state (user_id, authentication_method);
create index if not exists flow_state_created_at_idx on auth.flow_state (created_at desc);

-- ---------------------------------------------------------------------------------
-- Emulator-only tables
-- ---------------------------------------------------------------------------------

-- The user an OAuth flow links a new identity to.
create table if not exists auth_emulator.flow_state_links (
    flow_state_id text not null primary key,
    user_id uuid not null references auth.users (id) on delete cascade
);

-- Authorization codes of the emulator's own OAuth provider page.
create table if not exists auth_emulator.oauth_codes (
    code text not null primary key,
    flow_state_id text not null,
    email text not null,
    name text not null,
    created_at timestamptz not null
);

-- JWT signing keys (PKCS#8 DER).
create table if not exists auth_emulator.signing_keys (
    kid text not null primary key,
    alg text not null,
    private_der bytea not null,
    created_at timestamptz not null
);

-- Small key/value settings.
create table if not exists auth_emulator.meta (
    key text not null primary key,
    value text not null
);

-- The inbox: every email and SMS the emulator "sends", in sending order (seq).
create table if not exists auth_emulator.emails (
    seq bigserial not null primary key,
    id text not null unique,
    to_addr text not null,
    subject text not null,
    kind text not null,
    otp text not null,
    token_hash text not null,
    link text not null,
    redirect_to text not null,
    html text not null,
    sent_at timestamptz not null,
    channel text not null default 'email',
    body text not null default ''
);

-- ---------------------------------------------------------------------------------
-- '' to NULL
-- ---------------------------------------------------------------------------------

-- The emulator writes '' for a missing email or phone; GoTrue stores NULL, and the
-- unique indexes on users.email and users.phone only let many users go without one
-- if it is NULL. email_change and phone_change are left alone: GoTrue's own code writes
-- '' to them (the columns default to NULL and '' respectively).
create or replace function auth_emulator.users_blank_to_null() returns trigger
language plpgsql
as $$
begin
    new.email := nullif(new.email, '');
    new.phone := nullif(new.phone, '');
    return new;
end
$$;

create or replace trigger auth_emulator_users_blank_to_null
    before insert or update on auth.users
    for each row execute function auth_emulator.users_blank_to_null();

-- Likewise a TOTP or WebAuthn factor has no phone: NULL in GoTrue, '' from the emulator.
-- With '' a user's second such factor would break unique_phone_factor_per_user.
create or replace function auth_emulator.mfa_factors_blank_to_null() returns trigger
language plpgsql
as $$
begin
    new.phone := nullif(new.phone, '');
    return new;
end
$$;

create or replace trigger auth_emulator_mfa_factors_blank_to_null
    before insert or update on auth.mfa_factors
    for each row execute function auth_emulator.mfa_factors_blank_to_null();
