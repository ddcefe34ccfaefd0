#!/usr/bin/env node
// Installs and builds this repository's packages that web/ links with `file:` (npm links
// them without either): each one's own scripts/ensure-built.mjs, in turn. Run by the npm
// pre-scripts of package.json, so a fresh clone and an edited package both work.
import '../../packages/transform-url/scripts/ensure-built.mjs';
import '../../packages/api-client/scripts/ensure-built.mjs';
