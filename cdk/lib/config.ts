// The stack's settings: cost-aware defaults, each raised with a context value
// (`cdk deploy -c transformerCpu=1024`, or "context" in cdk.json).

import { Fn } from 'aws-cdk-lib';
import type { Node } from 'constructs';

import { DEFAULT_RENDER_TIMEOUT_MS } from './render-budget.js';

export interface Settings {
  /** Fargate CPU units (1024 = 1 vCPU) and memory (MiB) per API task. */
  readonly apiCpu: number;
  readonly apiMemoryMiB: number;
  /** API tasks: always running, and the most autoscaling may add. */
  readonly apiMinTasks: number;
  readonly apiMaxTasks: number;
  /** Fargate CPU units and memory per transformer task (libvips renders here). */
  readonly transformerCpu: number;
  readonly transformerMemoryMiB: number;
  readonly transformerMinTasks: number;
  readonly transformerMaxTasks: number;
  /**
   * The engine's time budget for one variant's decode and render, in milliseconds: the
   * transformer's IMGEDGE_RENDER_TIMEOUT_MS, and what the transformer origin's read timeout
   * derives from (lib/render-budget.ts). At most 22500 (RenderBudget.maxRenderTimeoutMs())
   * without a CloudFront quota increase.
   */
  readonly renderTimeoutMs: number;
  /** RDS instance class, without the `db.` prefix. */
  readonly dbInstanceType: string;
  readonly dbAllocatedStorageGiB: number;
  readonly dbMultiAz: boolean;
  /** ElastiCache node type. */
  readonly cacheNodeType: string;
  /**
   * NAT gateways. 0 (the default) puts tasks in public subnets with public IPs, which only
   * the load balancer's security group may reach; 1 or more moves them to private subnets.
   */
  readonly natGateways: number;
  /**
   * CloudFront's origin-facing managed prefix list in this region
   * (com.amazonaws.global.cloudfront.origin-facing): the only source the load balancer
   * accepts. Its id differs per region; the default is us-east-1's.
   */
  readonly cloudFrontPrefixListId: string;
  /** The secret holding IMGEDGE_JWT_KEYS (`kid=base64key[,...]`), created before deploy. */
  readonly jwtKeysSecretName: string;
  readonly jwtActiveKid: string;
  /** Two availability zones, comma-separated; empty means the region's first two. */
  readonly availabilityZones: string;
  /** CloudFront price class: 100 (North America, Europe), 200 or All. */
  readonly priceClass: '100' | '200' | 'All';
  /** Days the containers' and the edge function's logs are kept. */
  readonly logRetentionDays: number;
}

export const DEFAULTS: Settings = {
  apiCpu: 256,
  apiMemoryMiB: 512,
  apiMinTasks: 1,
  apiMaxTasks: 2,
  transformerCpu: 512,
  transformerMemoryMiB: 1024,
  transformerMinTasks: 1,
  transformerMaxTasks: 4,
  renderTimeoutMs: DEFAULT_RENDER_TIMEOUT_MS,
  dbInstanceType: 't4g.micro',
  dbAllocatedStorageGiB: 20,
  dbMultiAz: false,
  cacheNodeType: 'cache.t4g.micro',
  natGateways: 0,
  cloudFrontPrefixListId: 'pl-3b927c52',
  jwtKeysSecretName: 'imgedge/jwt-keys',
  jwtActiveKid: 'k1',
  availabilityZones: '',
  priceClass: '100',
  logRetentionDays: 30,
};

/**
 * The two availability zones: the named ones, else the region's first two resolved at
 * deploy time (Fn::GetAZs), so that synthesis needs no AWS call and names no zone.
 */
export function availabilityZones(settings: Settings): string[] {
  const named = settings.availabilityZones.split(',').map((z) => z.trim()).filter(Boolean);
  return named.length > 0 ? named : [0, 1].map((i) => Fn.select(i, Fn.getAzs()));
}

/** The settings: each default replaced by the context value of the same name, if any. */
export function readSettings(node: Node): Settings {
  const read = <K extends keyof Settings>(key: K): Settings[K] => {
    const raw: unknown = node.tryGetContext(key);
    const fallback = DEFAULTS[key];
    if (raw === undefined || raw === null || raw === '') return fallback;
    // `-c name=value` gives strings; cdk.json may give typed JSON values.
    if (typeof fallback === 'number') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new Error(`context ${key} must be a whole number, got ${String(raw)}`);
      return n as Settings[K];
    }
    if (typeof fallback === 'boolean') {
      if (raw === true || raw === 'true') return true as Settings[K];
      if (raw === false || raw === 'false') return false as Settings[K];
      throw new Error(`context ${key} must be true or false, got ${String(raw)}`);
    }
    return String(raw) as Settings[K];
  };
  const settings = Object.fromEntries(
    (Object.keys(DEFAULTS) as (keyof Settings)[]).map((key) => [key, read(key)]),
  ) as unknown as Settings;
  if (!['100', '200', 'All'].includes(settings.priceClass)) {
    throw new Error(`context priceClass must be 100, 200 or All, got ${settings.priceClass}`);
  }
  return settings;
}
