/**
 * Transform URLs 1.1 (docs/transform-urls.md), built in the browser with an image's
 * `url_key`: no request to the API is needed to get a variant's URL. The implementation is
 * the shared package `@imgedge/transform-url` (packages/transform-url), which the
 * Lambda@Edge function uses too; this module is the web client's one import of it.
 */
export * from "@imgedge/transform-url";
