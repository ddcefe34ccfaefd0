-- Sessions that end: every refresh token carries the absolute end of its family (the
-- session a sign-in started), and never outlives it, however often the family rotates.

ALTER TABLE refresh_tokens ADD COLUMN session_expires_at timestamptz;

-- Families that exist already end 30 days (the default lifetime) after their first token.
UPDATE refresh_tokens AS t
SET session_expires_at = f.started + interval '30 days'
FROM (SELECT family_id, min(created_at) AS started FROM refresh_tokens GROUP BY family_id) AS f
WHERE t.family_id = f.family_id;
UPDATE refresh_tokens SET expires_at = session_expires_at WHERE expires_at > session_expires_at;

ALTER TABLE refresh_tokens
    ALTER COLUMN session_expires_at SET NOT NULL,
    ADD CONSTRAINT refresh_tokens_within_session CHECK (expires_at <= session_expires_at);
