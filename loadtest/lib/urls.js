// Shared by the phases: the URL list the runner wrote, and the thresholds' knobs.
//
// The runner (loadtest/run) writes the list as JSON and passes its path in URLS_FILE; k6
// reads it once, in the init context, and every virtual user shares it.

export const urls = JSON.parse(open(__ENV.URLS_FILE));

if (!Array.isArray(urls) || urls.length === 0) {
  throw new Error(`URLS_FILE ${__ENV.URLS_FILE} holds no URLs`);
}

/** An environment variable as a number, or the default. */
export function num(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : Number(value);
}

/** Whether a response was answered from the CDN's cache (CloudFront or the local edge). */
export function isHit(res) {
  return (res.headers['X-Cache'] || '').startsWith('Hit from');
}

export const trendStats = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];
