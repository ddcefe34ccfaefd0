-- Transform URLs 1.1, key epochs: an image's `url_key` is derived at its epoch (0 when it
-- is created, v1's key); rotating the key (POST /v1/images/{id}/rotate-key) moves it to the
-- next epoch, so that every URL signed with an older key stops verifying.
ALTER TABLE images
    ADD COLUMN key_epoch integer NOT NULL DEFAULT 0
        CONSTRAINT images_key_epoch_natural CHECK (key_epoch >= 0);

-- A rotation owes, besides its CDN purge, the removal of the image's variant objects
-- signed under the old key (their rows are deleted with the rotation): the outbox sweeps
-- `v/{sweep_image}/` of every object without a row before it sends the purge, and retries
-- both until they succeed. A second row, due after the longest production, sweeps what a
-- render in flight at the rotation stored after the first.
ALTER TABLE purge_outbox ADD COLUMN sweep_image uuid;
