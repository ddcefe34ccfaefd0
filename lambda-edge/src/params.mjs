// The parameter names of transform URLs (spec 1.1), in canonical order, from the shared
// package: the one list of both the function (which keeps exactly these names) and the /i/*
// cache policy's query-string allow-list (cdk/lib/edge-parameters.ts reads it from here;
// the CDK tests check it against the shared vector file).

export { PARAM_NAMES as PARAMS } from '@imgedge/transform-url';
