-- The CDN purges a delete owes, kept durably (the purge outbox): a delete inserts its image's
-- invalidation path in the same transaction as it deletes the row, and the API's outbox task
-- removes the row only once the CDN (CloudFront, or the local edge's purge endpoint) has
-- accepted the path. A crash, a restart or a CDN outage delays a purge; it cannot lose one.
CREATE TABLE purge_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- `ImageId::invalidation_path`: `/i/{image_id}/*`, nothing else.
    path            text NOT NULL
                    CONSTRAINT purge_outbox_path_form
                    CHECK (path ~ '^/i/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/\*$'),
    -- When a process may next take the row. Taking it moves this forward by a lease, so
    -- several API processes draining at once send each row once; a process that dies with
    -- rows taken leaves them to the others when the lease runs out. A failed send moves it
    -- forward by the backoff.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Failed sends so far: the backoff doubles with each.
    attempts        integer NOT NULL DEFAULT 0 CONSTRAINT purge_outbox_attempts_nonnegative CHECK (attempts >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX purge_outbox_due_idx ON purge_outbox (next_attempt_at, id);
