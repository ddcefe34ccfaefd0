-- imgedge schema v1: accounts, refresh tokens, images and their rendered variants.
--
-- The CHECK constraints state the invariants the Rust code relies on, so a bug upstream
-- fails loudly at the INSERT instead of leaving a row that later breaks a reader.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- Stored normalised (trimmed, lowercased by `db::normalize_email`), so the plain
    -- UNIQUE constraint is the case-insensitive uniqueness rule.
    email         text NOT NULL
                  CONSTRAINT users_email_key UNIQUE
                  CONSTRAINT users_email_trimmed CHECK (email = btrim(email))
                  CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 320),
    -- Only Argon2id PHC strings: a plaintext or weaker hash cannot be stored by mistake.
    password_hash text NOT NULL
                  CONSTRAINT users_password_hash_argon2id CHECK (password_hash LIKE '$argon2id$%'),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens rotate: each use marks the row used and inserts its successor in the same
-- family. Presenting a used or revoked token revokes the whole family (reuse detection).
-- Only the BLAKE3 hash of a token is stored, never the token.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL
                CONSTRAINT refresh_tokens_token_hash_key UNIQUE
                CONSTRAINT refresh_tokens_token_hash_blake3 CHECK (octet_length(token_hash) = 32),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
-- Deleting a user cascades here; without this index that is a sequential scan.
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

CREATE TABLE images (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL when the upload carried no name (a raw body).
    filename    text CONSTRAINT images_filename_length CHECK (char_length(filename) BETWEEN 1 AND 255),
    -- `engine::SourceFormat::as_str` names.
    format      text NOT NULL
                CONSTRAINT images_format_known CHECK (format IN ('jpeg', 'png', 'webp', 'gif', 'heic', 'avif')),
    width       integer NOT NULL CONSTRAINT images_width_positive CHECK (width > 0),
    height      integer NOT NULL CONSTRAINT images_height_positive CHECK (height > 0),
    frames      integer NOT NULL CONSTRAINT images_frames_positive CHECK (frames > 0),
    bytes       bigint NOT NULL CONSTRAINT images_bytes_positive CHECK (bytes > 0),
    blake3      bytea NOT NULL CONSTRAINT images_blake3_length CHECK (octet_length(blake3) = 32),
    -- Set by the database (microsecond precision) and returned, so page cursors built from
    -- it round-trip exactly.
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination of one owner's images, newest first; ties on created_at broken by id.
CREATE INDEX images_owner_created_idx ON images (owner_id, created_at DESC, id DESC);

-- Variants the transformer rendered to S3 `v/{image_id}/{sig}`: deleting an image finds
-- them here (and the rows cascade away with it).
CREATE TABLE variants (
    image_id        uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    sig             text NOT NULL CONSTRAINT variants_sig_form CHECK (sig ~ '^[A-Za-z0-9_-]{22}$'),
    canonical_query text NOT NULL,
    bytes           bigint NOT NULL CONSTRAINT variants_bytes_positive CHECK (bytes > 0),
    -- `url::Format::as_str` names.
    format          text NOT NULL
                    CONSTRAINT variants_format_known CHECK (format IN ('jpeg', 'png', 'webp', 'avif')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_id, sig)
);
