// S3: variants rendered earlier, requested after the CDN's cache was purged: each request
// misses at the edge and is answered by S3 without a render. Each URL once.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { urls, num, isHit, trendStats } from './lib/urls.js';

export const options = {
  scenarios: {
    s3: {
      executor: 'shared-iterations',
      vus: num('VUS', 8),
      iterations: urls.length,
      maxDuration: __ENV.MAX_DURATION || '10m',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    http_req_duration: [`p(95)<${num('P95_MS', 1000)}`],
  },
  summaryTrendStats: trendStats,
};

export default function () {
  const res = http.get(urls[exec.scenario.iterationInTest], { tags: { phase: 's3' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
    'a miss at the edge': (r) => !isHit(r),
    // The local edge names the origin; CloudFront does not, so absent means unknown.
    'served by S3, not rendered': (r) => (r.headers['X-Edge-Origin'] || 's3') === 's3',
  });
}
