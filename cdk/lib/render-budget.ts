// How long CloudFront waits for the transformer, derived from the engine's render timeout.

import { Duration } from 'aws-cdk-lib';

/** The engine's default render timeout (IMGEDGE_RENDER_TIMEOUT_MS, EngineConfig's default). */
export const DEFAULT_RENDER_TIMEOUT_MS = 20_000;
/** The fetch of the original and the PUT and insert of the variant, together. */
export const STORAGE_ALLOWANCE = Duration.seconds(5);
/** The HTTP hops between the edge and the transformer, and the response. */
export const HOP_ALLOWANCE = Duration.seconds(5);
/**
 * The longest origin response timeout CloudFront accepts without a quota increase. Raise it
 * only after that increase is granted for the account.
 */
export const CLOUDFRONT_MAX_ORIGIN_TIMEOUT = Duration.seconds(60);

/**
 * The time a variant's first request may take: the formula of `RenderBudget` in
 * src/protocol.rs, restated with the same constants (test/render-budget.test.ts reads them
 * from there).
 *
 * - production = render timeout + STORAGE_ALLOWANCE (decode and render share the render
 *   timeout; then the fetch and the store);
 * - peer wait = production (a request finding another process rendering its variant waits
 *   at most that long, then renders it itself);
 * - origin timeout = peer wait + production + HOP_ALLOWANCE (55 s for the default 20 s).
 *
 * If the origin timeout exceeds CloudFront's maximum, the render timeout is shortened, never
 * the read timeout: a read timeout below the formula's would let CloudFront give up on a
 * render the transformer is still allowed to finish.
 */
export class RenderBudget {
  constructor(readonly renderTimeoutMs: number = DEFAULT_RENDER_TIMEOUT_MS) {
    if (!Number.isInteger(renderTimeoutMs) || renderTimeoutMs < 1) {
      throw new Error(`the render timeout must be a whole number of milliseconds, at least 1, got ${renderTimeoutMs}`);
    }
  }

  /** One production: fetch, decode and render, store. */
  get productionMs(): number {
    return this.renderTimeoutMs + STORAGE_ALLOWANCE.toMilliseconds();
  }

  /** How long a request waits for another process rendering the same variant. */
  get peerWaitMs(): number {
    return this.productionMs;
  }

  /** How long an edge waits for the transformer: a wait for a peer, then a production. */
  get originTimeoutMs(): number {
    return this.peerWaitMs + this.productionMs + HOP_ALLOWANCE.toMilliseconds();
  }

  /** The longest render timeout whose origin timeout still fits CloudFront's maximum. */
  static maxRenderTimeoutMs(): number {
    const cap = CLOUDFRONT_MAX_ORIGIN_TIMEOUT.toMilliseconds();
    return Math.floor((cap - HOP_ALLOWANCE.toMilliseconds()) / 2) - STORAGE_ALLOWANCE.toMilliseconds();
  }

  /**
   * The transformer origin's read timeout for CloudFront: the origin timeout in whole
   * seconds, rounded up. Throws (at synth time) if that exceeds CloudFront's maximum.
   */
  originReadTimeout(): Duration {
    const seconds = Math.ceil(this.originTimeoutMs / 1000);
    const cap = CLOUDFRONT_MAX_ORIGIN_TIMEOUT.toSeconds();
    if (seconds > cap) {
      throw new Error(
        `renderTimeoutMs=${this.renderTimeoutMs} makes the transformer origin timeout ${seconds} s ` +
          `(2 × (render timeout + ${STORAGE_ALLOWANCE.toSeconds()} s) + ${HOP_ALLOWANCE.toSeconds()} s, ` +
          `src/protocol.rs RenderBudget), over CloudFront's ${cap} s maximum: shorten the render ` +
          `timeout (-c renderTimeoutMs=${RenderBudget.maxRenderTimeoutMs()} or less), or request ` +
          `CloudFront's origin response timeout quota increase and raise ` +
          `CLOUDFRONT_MAX_ORIGIN_TIMEOUT in cdk/lib/render-budget.ts deliberately`,
      );
    }
    return Duration.seconds(seconds);
  }
}
