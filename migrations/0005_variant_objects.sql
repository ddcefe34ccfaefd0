-- Transform URLs 1.1: a `format=auto` URL is one variant (one row of `variants`, one place
-- under the per-image cap) whose output depends on the request's accept class; each class
-- rendered is its own object, `v/{image_id}/{sig}.{class}`, recorded here under its
-- variant (and removed with it).
CREATE TABLE variant_objects (
    image_id     uuid NOT NULL,
    sig          text NOT NULL,
    accept_class text NOT NULL
                 CONSTRAINT variant_objects_class_known CHECK (accept_class IN ('avif', 'webp', 'basic')),
    bytes        bigint NOT NULL CONSTRAINT variant_objects_bytes_positive CHECK (bytes > 0),
    -- `url::Format::as_str` names.
    format       text NOT NULL
                 CONSTRAINT variant_objects_format_known CHECK (format IN ('jpeg', 'png', 'webp', 'avif')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_id, sig, accept_class),
    FOREIGN KEY (image_id, sig) REFERENCES variants (image_id, sig) ON DELETE CASCADE
);
