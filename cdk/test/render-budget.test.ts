// The render budget's formula, and its constants against the service's (src/protocol.rs),
// which this test reads as text so that the two cannot drift.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import {
  CLOUDFRONT_MAX_ORIGIN_TIMEOUT,
  DEFAULT_RENDER_TIMEOUT_MS,
  HOP_ALLOWANCE,
  RenderBudget,
  STORAGE_ALLOWANCE,
} from '../lib/render-budget.js';

/** A Rust source of the repository, from the cdk directory's parent. */
const rust = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The N of `const NAME: Duration = Duration::from_secs(N);` in a Rust source. */
function rustSeconds(source: string, name: string): number {
  const m = new RegExp(`const\\s+${name}\\s*:\\s*Duration\\s*=\\s*Duration::from_secs\\(\\s*(\\d+)\\s*\\)`).exec(source);
  return Number(m?.[1] ?? assert.fail(`no \`const ${name}: Duration = Duration::from_secs(N)\``));
}

describe('the render budget', () => {
  test("its allowances are src/protocol.rs's RenderBudget constants", () => {
    const protocol = rust('src/protocol.rs');
    assert.match(protocol, /pub struct RenderBudget\b/);
    assert.equal(STORAGE_ALLOWANCE.toSeconds(), rustSeconds(protocol, 'STORAGE_ALLOWANCE'), 'STORAGE_ALLOWANCE');
    assert.equal(HOP_ALLOWANCE.toSeconds(), rustSeconds(protocol, 'HOP_ALLOWANCE'), 'HOP_ALLOWANCE');
  });

  test("its default render timeout is the engine's (EngineConfig::default)", () => {
    const engine = rust('crates/imgedge-engine/src/lib.rs');
    const m = /render_timeout:\s*Duration::from_secs\(\s*(\d+)\s*\)/.exec(engine) ?? assert.fail('no default render_timeout');
    assert.equal(DEFAULT_RENDER_TIMEOUT_MS, Number(m[1]) * 1000);
  });

  test('production and peer wait are the render timeout plus the storage allowance', () => {
    const budget = new RenderBudget(20_000);
    assert.equal(budget.productionMs, 25_000);
    assert.equal(budget.peerWaitMs, 25_000);
    assert.equal(budget.originTimeoutMs, 55_000);
    assert.equal(new RenderBudget().renderTimeoutMs, DEFAULT_RENDER_TIMEOUT_MS);
  });

  test('the origin waits out a peer and its own production, for any render timeout', () => {
    for (const ms of [1, 999, 5_000, 12_345, 20_000]) {
      const budget = new RenderBudget(ms);
      assert.ok(budget.originTimeoutMs > budget.peerWaitMs + budget.productionMs, `${ms} ms`);
      assert.ok(budget.peerWaitMs > budget.renderTimeoutMs, `${ms} ms`);
      assert.equal(budget.originReadTimeout().toSeconds(), Math.ceil(budget.originTimeoutMs / 1000), `${ms} ms`);
    }
  });

  test("CloudFront's read timeout is whole seconds, rounded up, at most 60 s", () => {
    assert.equal(CLOUDFRONT_MAX_ORIGIN_TIMEOUT.toSeconds(), 60);
    assert.equal(new RenderBudget(20_000).originReadTimeout().toSeconds(), 55);
    assert.equal(new RenderBudget(20_001).originReadTimeout().toSeconds(), 56);
    assert.equal(RenderBudget.maxRenderTimeoutMs(), 22_500);
    assert.equal(new RenderBudget(22_500).originReadTimeout().toSeconds(), 60);
    assert.throws(() => new RenderBudget(22_501).originReadTimeout(), /shorten the render timeout \(-c renderTimeoutMs=22500 or less\)/);
  });

  test('a render timeout is a positive whole number of milliseconds', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new RenderBudget(bad), /whole number of milliseconds/, String(bad));
    }
  });
});
