-- Rewrites `images` (a stored generated column) and fills the word table: at a million
-- images this outlasts the pool's statement timeout, which is for requests, not migrations.
SET LOCAL statement_timeout = 0;

-- What an owner says about an image (alt text, title, tags, their own metadata, a focal
-- point), what its placeholder looks like (computed once at upload or by `imgedge
-- backfill`), and what searching an owner's images needs at a million rows.

-- A tag: lowercase letters and digits in words joined by single hyphens, 1 to 64 characters.
CREATE FUNCTION tags_are_slugs(tags text[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(bool_and(t ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(t) <= 64), true)
    FROM unnest(tags) AS t
$$;

ALTER TABLE images
    ADD COLUMN alt text
        CONSTRAINT images_alt_length CHECK (char_length(alt) <= 1000),
    ADD COLUMN title text
        CONSTRAINT images_title_length CHECK (char_length(title) <= 200),
    -- Lowercase slugs, at most 32 (the API sorts and deduplicates them).
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}'
        CONSTRAINT images_tags_count CHECK (cardinality(tags) <= 32)
        CONSTRAINT images_tags_slugs CHECK (tags_are_slugs(tags)),
    -- The client's own JSON object, at most 8 KiB as the API received it; `json`, not
    -- `jsonb`: it is never queried, and `json` keeps any string the client sent (jsonb
    -- refuses `\u0000`).
    ADD COLUMN metadata json NOT NULL DEFAULT '{}'
        CONSTRAINT images_metadata_object CHECK (json_typeof(metadata) = 'object'),
    -- The focal point in thousandths of the upright width and height (as `gravity=X,Y`
    -- of transform URLs 1.1 rounds it); both or neither.
    ADD COLUMN focus_x smallint,
    ADD COLUMN focus_y smallint,
    ADD CONSTRAINT images_focus_pair CHECK ((focus_x IS NULL) = (focus_y IS NULL)),
    ADD CONSTRAINT images_focus_range CHECK (focus_x BETWEEN 0 AND 1000 AND focus_y BETWEEN 0 AND 1000),
    -- Placeholders: NULL only for images uploaded before this migration, until backfilled.
    ADD COLUMN thumbhash bytea
        CONSTRAINT images_thumbhash_length CHECK (octet_length(thumbhash) BETWEEN 5 AND 32),
    ADD COLUMN dominant_color text
        CONSTRAINT images_dominant_color_form CHECK (dominant_color ~ '^#[0-9a-f]{6}$'),
    -- Bumped by every change the owner makes (an edit, a key rotation): the conditional
    -- update behind `If-Match` compares it.
    ADD COLUMN revision bigint NOT NULL DEFAULT 1,
    -- The words `q` searches: title, alt text and the file name split on punctuation
    -- (`image_words` indexes them by owner and date).
    ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig,
            coalesce(title, '') || ' ' || coalesce(alt, '') || ' ' ||
            regexp_replace(coalesce(filename, ''), '[^[:alnum:]]+', ' ', 'g'))
    ) STORED;

-- A format filter walks its own range in date order, however rare the format.
CREATE INDEX images_owner_format_created_idx ON images (owner_id, format, created_at DESC, id DESC);

-- One row per tag of each image, kept by the trigger below from `images.tags` (the source
-- of truth): a tag filter walks `(owner_id, tag)` in date order, so its first page costs
-- the same at 200,000 images as at 100, however rare or common the tag.
CREATE TABLE image_tags (
    owner_id   uuid NOT NULL,
    tag        text NOT NULL,
    created_at timestamptz NOT NULL,
    image_id   uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    PRIMARY KEY (owner_id, tag, created_at, image_id)
);
-- The cascade from an image's delete, and the trigger's own edits.
CREATE INDEX image_tags_image_idx ON image_tags (image_id);

CREATE FUNCTION image_tags_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM image_tags WHERE image_id = NEW.id AND NOT (tag = ANY (NEW.tags));
    INSERT INTO image_tags (owner_id, tag, created_at, image_id)
    SELECT NEW.owner_id, t, NEW.created_at, NEW.id FROM unnest(NEW.tags) AS t
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;

CREATE TRIGGER images_tags
    AFTER INSERT OR UPDATE OF tags ON images
    FOR EACH ROW EXECUTE FUNCTION image_tags_track();

-- The same for words: one row per word of each image's `search`, kept by the trigger below,
-- so that a search walks `(owner_id, word)` in date order (its first word; the whole query
-- is checked on the image) instead of collecting every match to sort it.
CREATE TABLE image_words (
    owner_id   uuid NOT NULL,
    word       text NOT NULL,
    created_at timestamptz NOT NULL,
    image_id   uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    PRIMARY KEY (owner_id, word, created_at, image_id)
);
CREATE INDEX image_words_image_idx ON image_words (image_id);

CREATE FUNCTION image_words_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM image_words
     WHERE image_id = NEW.id AND NOT (word = ANY (tsvector_to_array(NEW.search)));
    INSERT INTO image_words (owner_id, word, created_at, image_id)
    SELECT NEW.owner_id, w, NEW.created_at, NEW.id FROM unnest(tsvector_to_array(NEW.search)) AS w
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;

CREATE TRIGGER images_words
    AFTER INSERT OR UPDATE OF title, alt, filename ON images
    FOR EACH ROW EXECUTE FUNCTION image_words_track();

-- The words of the images that exist already (their file names).
INSERT INTO image_words (owner_id, word, created_at, image_id)
SELECT owner_id, unnest(tsvector_to_array(search)), created_at, id FROM images
ON CONFLICT DO NOTHING;
