// Warm: a fixed set of variants, all rendered and cached beforehand, replayed by many
// virtual users for a while. Every request should be a cache hit; the runner checks from
// the roles' metrics that none reached the transformer or the API.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { urls, num, isHit, trendStats } from './lib/urls.js';

export const options = {
  scenarios: {
    warm: {
      executor: 'constant-vus',
      vus: num('VUS', 32),
      duration: __ENV.DURATION || '30s',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    checks: ['rate>0.999'],
    http_req_duration: [`p(99)<${num('P99_MS', 50)}`],
  },
  summaryTrendStats: trendStats,
};

export default function () {
  const url = urls[exec.scenario.iterationInTest % urls.length];
  const res = http.get(url, { tags: { phase: 'warm' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
    'a cache hit': isHit,
  });
}
