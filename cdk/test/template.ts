// The stack, synthesised once per settings for the tests, and small helpers to read the
// CloudFormation template.

import { readFileSync } from 'node:fs';

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

import { readSettings } from '../lib/config.js';
import { ImgedgeStack } from '../lib/imgedge-stack.js';

export type Json = Record<string, unknown>;

export interface Synthesised {
  readonly stack: ImgedgeStack;
  readonly template: Template;
  readonly resources: Record<string, { Type: string; Properties?: Json }>;
  /** The cloud assembly's directory: file assets are staged there as `asset.{hash}`. */
  readonly assemblyDir: string;
}

/** Synthesises the stack with these context values (as `-c key=value` would give them). */
export function synth(context: Record<string, string> = {}): Synthesised {
  const app = new App({ context });
  const stack = new ImgedgeStack(app, 'Imgedge', {
    env: { account: '123456789012', region: 'us-east-1' },
    settings: readSettings(app.node),
  });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Synthesised['resources'];
  return { stack, template, resources, assemblyDir: app.synth().directory };
}

/** The one resource of a type, with its logical id. */
export function only(s: Synthesised, type: string): { id: string; props: Json } {
  const found = Object.entries(s.resources).filter(([, r]) => r.Type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, props: resource.Properties ?? {} };
}

/** Every resource of a type. */
export function all(s: Synthesised, type: string): { id: string; props: Json }[] {
  return Object.entries(s.resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => ({ id, props: r.Properties ?? {} }));
}

/**
 * The spec's parameter names as the shared vector file proves them: every name that
 * appears in a canonical query it lists (read here, never copied into the tests).
 */
export function parameterNamesFromVectors(): string[] {
  const file = new URL('../../testdata/url-vectors.json', import.meta.url);
  const vectors = JSON.parse(readFileSync(file, 'utf8')) as {
    cases: { canonical_query?: string }[];
  };
  const names = new Set<string>();
  for (const { canonical_query: query } of vectors.cases) {
    for (const pair of (query ?? '').split('&').filter(Boolean)) {
      names.add(pair.slice(0, pair.indexOf('=')));
    }
  }
  return [...names].sort();
}

/** `{"Fn::Join": ["", [...]]}` flattened to a string, refs and attributes as `${id}`. */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flat).join('');
  if (value && typeof value === 'object') {
    const v = value as Json;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flat).join(sep);
    }
    if ('Ref' in v) return `\${${String(v.Ref)}}`;
    if ('Fn::GetAtt' in v) return `\${${(v['Fn::GetAtt'] as string[]).join('.')}}`;
  }
  return JSON.stringify(value);
}
