-- One variant can be deleted (DELETE /v1/images/{id}/variants/{sig}): the outbox also owes
-- the CDN one variant's path, `/i/{image_id}/{sig}*` (`ImageId::variant_invalidation_path`),
-- with the sweep of that image's objects that no longer have a row.
ALTER TABLE purge_outbox
    DROP CONSTRAINT purge_outbox_path_form,
    ADD CONSTRAINT purge_outbox_path_form
        CHECK (path ~ '^/i/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/(\*|[A-Za-z0-9_-]{22}\*)$');
