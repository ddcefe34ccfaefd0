-- What an owner's variants take, kept by triggers like `storage_usage` (0003): each image
-- counts its variants and their bytes (the per-image cap reads one row, however many
-- variants exist), each account sums its images', and each account counts its renders by
-- month. A `format=auto` variant's `bytes` is the sum of its classes' objects (the
-- transformer adds each class's as it records it).

LOCK TABLE images, variants IN SHARE ROW EXCLUSIVE MODE;
-- The backfill below updates every variant and image: at a million images it outlasts the
-- pool's statement timeout, which is for requests, not migrations.
SET LOCAL statement_timeout = 0;

ALTER TABLE images
    ADD COLUMN variant_count integer NOT NULL DEFAULT 0
        CONSTRAINT images_variant_count_nonnegative CHECK (variant_count >= 0),
    ADD COLUMN variant_bytes bigint NOT NULL DEFAULT 0
        CONSTRAINT images_variant_bytes_nonnegative CHECK (variant_bytes >= 0);

ALTER TABLE storage_usage
    ADD COLUMN variants bigint NOT NULL DEFAULT 0
        CONSTRAINT storage_usage_variants_nonnegative CHECK (variants >= 0),
    ADD COLUMN variant_bytes bigint NOT NULL DEFAULT 0
        CONSTRAINT storage_usage_variant_bytes_nonnegative CHECK (variant_bytes >= 0);

UPDATE variants AS v SET bytes = o.total
FROM (SELECT image_id, sig, sum(bytes) AS total FROM variant_objects GROUP BY image_id, sig) AS o
WHERE v.image_id = o.image_id AND v.sig = o.sig;

UPDATE images AS i SET variant_count = v.n, variant_bytes = v.total
FROM (SELECT image_id, count(*) AS n, sum(bytes) AS total FROM variants GROUP BY image_id) AS v
WHERE i.id = v.image_id;

UPDATE storage_usage AS u SET variants = i.n, variant_bytes = i.total
FROM (SELECT owner_id, sum(variant_count) AS n, sum(variant_bytes) AS total
      FROM images GROUP BY owner_id) AS i
WHERE u.user_id = i.owner_id;

-- A variant's row changes its image's counts. When the image itself is being deleted (the
-- cascade), its row is gone and the update touches nothing: the image's delete already
-- took its counts out of the account's.
CREATE FUNCTION variant_usage_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE images
           SET variant_count = variant_count - 1, variant_bytes = variant_bytes - OLD.bytes
         WHERE id = OLD.image_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE images
           SET variant_count = variant_count + 1, variant_bytes = variant_bytes + NEW.bytes
         WHERE id = NEW.image_id;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$;

CREATE TRIGGER variants_usage
    AFTER INSERT OR DELETE OR UPDATE OF image_id, bytes ON variants
    FOR EACH ROW EXECUTE FUNCTION variant_usage_track();

-- The account's sums follow its images' (replacing 0003's function, which counted
-- originals only).
CREATE OR REPLACE FUNCTION storage_usage_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE storage_usage
           SET bytes = bytes - OLD.bytes, images = images - 1,
               variants = variants - OLD.variant_count,
               variant_bytes = variant_bytes - OLD.variant_bytes
         WHERE user_id = OLD.owner_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO storage_usage AS u (user_id, bytes, images, variants, variant_bytes)
        VALUES (NEW.owner_id, NEW.bytes, 1, NEW.variant_count, NEW.variant_bytes)
        ON CONFLICT (user_id) DO UPDATE
           SET bytes = u.bytes + EXCLUDED.bytes, images = u.images + 1,
               variants = u.variants + EXCLUDED.variants,
               variant_bytes = u.variant_bytes + EXCLUDED.variant_bytes;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$;

DROP TRIGGER images_storage_usage ON images;
CREATE TRIGGER images_storage_usage
    AFTER INSERT OR DELETE OR UPDATE OF owner_id, bytes, variant_count, variant_bytes ON images
    FOR EACH ROW EXECUTE FUNCTION storage_usage_track();

-- Renders recorded per account and calendar month (UTC), for `GET /v1/usage`.
CREATE TABLE monthly_renders (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    month   date NOT NULL CONSTRAINT monthly_renders_first_day CHECK (extract(day FROM month) = 1),
    renders bigint NOT NULL DEFAULT 0 CONSTRAINT monthly_renders_nonnegative CHECK (renders >= 0),
    PRIMARY KEY (user_id, month)
);

-- An image's variants by date, for `GET /v1/images/{id}/variants` (keyset pages).
CREATE INDEX variants_image_created_idx ON variants (image_id, created_at DESC, sig DESC);
