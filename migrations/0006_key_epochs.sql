-- Transform URLs 1.1, key epochs: an image's `url_key` is derived at its epoch (0 when it
-- is created, v1's key); rotating the key (POST /v1/images/{id}/rotate-key) moves it to the
-- next epoch, so that every URL signed with an older key stops verifying.
ALTER TABLE images
    ADD COLUMN key_epoch integer NOT NULL DEFAULT 0
        CONSTRAINT images_key_epoch_natural CHECK (key_epoch >= 0);
