-- Presets: an owner's named transforms (`PUT /v1/presets/{name}`), and the renders ahead
-- that eager ones owe each new upload, queued here in the upload's own transaction so that
-- a 201 means they will happen, whatever the process does next.
CREATE TABLE presets (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            text NOT NULL
                    CONSTRAINT presets_name_form CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    -- Canonical (`TransformSpec::canonical_query`): one preset, one URL per image.
    canonical_query text NOT NULL CONSTRAINT presets_query_length CHECK (char_length(canonical_query) <= 1024),
    eager           boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, name)
);

-- One render ahead: an eager preset's URL for a new image, for one accept class of a
-- `format=auto` query (`''` otherwise). Taken under a lease with `FOR UPDATE SKIP LOCKED`
-- like the purge outbox, retried with backoff, kept once done so the image's metadata can
-- say `ready` or `failed`.
CREATE TABLE render_jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    image_id        uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    preset          text NOT NULL,
    -- The URL's canonical query, with the image's focus as it was at the upload.
    canonical_query text NOT NULL,
    accept_class    text NOT NULL
                    CONSTRAINT render_jobs_class_known CHECK (accept_class IN ('', 'avif', 'webp', 'basic')),
    state           text NOT NULL DEFAULT 'pending'
                    CONSTRAINT render_jobs_state_known CHECK (state IN ('pending', 'ready', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CONSTRAINT render_jobs_attempts_nonnegative CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (image_id, preset, accept_class)
);
-- The worker's scan: only what is still owed.
CREATE INDEX render_jobs_due_idx ON render_jobs (next_attempt_at, id) WHERE state = 'pending';
