// Cold: every request is a variant never requested before, so the CDN misses, S3 has
// nothing, and the transformer renders it (a "Miss" with the transformer as origin).
// Each URL of the list is requested exactly once, shared among the virtual users.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { urls, num, isHit, trendStats } from './lib/urls.js';

export const options = {
  scenarios: {
    cold: {
      executor: 'shared-iterations',
      vus: num('VUS', 2),
      iterations: urls.length,
      maxDuration: __ENV.MAX_DURATION || '15m',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    http_req_duration: [`p(95)<${num('P95_MS', 10000)}`],
  },
  summaryTrendStats: trendStats,
};

export default function () {
  const res = http.get(urls[exec.scenario.iterationInTest], { tags: { phase: 'cold' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
    'a miss, not a cache hit': (r) => !isHit(r),
  });
}
