// The spec's parameter names, from the edge function's own list, so the function and the
// cache policy that forwards to it cannot disagree. The tests check this list against the
// shared vector file.

import { PARAMS } from '../../lambda-edge/src/params.mjs';

export const TRANSFORM_PARAMETERS: readonly string[] = PARAMS;
