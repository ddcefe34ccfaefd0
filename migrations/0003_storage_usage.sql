-- Each account's storage in use, for its quotas: bytes of originals and how many images.
--
-- The trigger below keeps a row equal to the sum over the account's images whatever
-- inserts or deletes them (an upload, a delete, a user's cascade), so
-- deleting an image frees its room with no code of its own. The API enforces the quota at
-- upload by locking the row in the transaction that inserts the image (`db::usage`), so two
-- concurrent uploads cannot both take the last of it.

-- No image may be inserted or deleted between the backfill below and the trigger that
-- takes over from it (an API still running the previous release during a deploy): the
-- lock holds writers back until this migration's transaction commits.
LOCK TABLE images IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE storage_usage (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    bytes   bigint NOT NULL DEFAULT 0 CONSTRAINT storage_usage_bytes_nonnegative CHECK (bytes >= 0),
    images  bigint NOT NULL DEFAULT 0 CONSTRAINT storage_usage_images_nonnegative CHECK (images >= 0)
);

INSERT INTO storage_usage (user_id, bytes, images)
SELECT owner_id, sum(bytes), count(*) FROM images GROUP BY owner_id;

CREATE FUNCTION storage_usage_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE storage_usage
           SET bytes = bytes - OLD.bytes, images = images - 1
         WHERE user_id = OLD.owner_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO storage_usage AS u (user_id, bytes, images)
        VALUES (NEW.owner_id, NEW.bytes, 1)
        ON CONFLICT (user_id) DO UPDATE
           SET bytes = u.bytes + EXCLUDED.bytes, images = u.images + 1;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$;

CREATE TRIGGER images_storage_usage
    AFTER INSERT OR DELETE OR UPDATE OF owner_id, bytes ON images
    FOR EACH ROW EXECUTE FUNCTION storage_usage_track();
