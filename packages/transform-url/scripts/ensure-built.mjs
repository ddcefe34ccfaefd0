#!/usr/bin/env node
// Installs and builds this package when needed (see ../../ensure-built.mjs).

import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../../ensure-built.mjs';

ensureBuilt(dirname(dirname(fileURLToPath(import.meta.url))));
