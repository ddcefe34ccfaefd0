-- An account its owner controls: API keys for servers, and sessions that can all be ended.

-- Bumped by a password change and by signing out everywhere: access tokens carry the
-- epoch they were issued at, and one from an older epoch is refused at once (refresh
-- tokens are revoked in the same transaction).
ALTER TABLE users
    ADD COLUMN session_epoch integer NOT NULL DEFAULT 0
        CONSTRAINT users_session_epoch_natural CHECK (session_epoch >= 0);

-- API keys: `Authorization: Bearer ik_…`. Only the BLAKE3 hash of a key's secret is
-- stored (a 256-bit random secret needs no slow hash); the secret is shown once.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    scope        text NOT NULL CONSTRAINT api_keys_scope_known CHECK (scope IN ('read', 'write')),
    secret_hash  bytea NOT NULL
                 CONSTRAINT api_keys_secret_hash_key UNIQUE
                 CONSTRAINT api_keys_secret_hash_blake3 CHECK (octet_length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Kept to the minute: writing it on every request would make each one a write.
    last_used_at timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);
