// Before a load test sends its first request: is the target the service the plan means? A GET of
// its identity path must answer with the plan's name in the identity header (plan/loadtests.ts).
// Anything else (a refused connection, a 404, another header, a hang) refuses the load test with
// what was asked and what came back. One request, with a timeout; no redirects followed.
import { request as httpRequest } from 'node:http';
import { identityUrl, TARGET_IDENTITY_HEADER } from '../plan/loadtests.js';

/** Null when the target identifies as `expected`, else why the load test must not run. */
export async function verifyTargetIdentity(target: string, expected: string, timeoutMs = 3_000): Promise<string | null> {
  const url = identityUrl(target);
  if (!url) return `"${target}" is not a URL`;
  // node:https (and TLS with it, ~10 ms to load) only for an https target: not at every start.
  const request = url.startsWith('https:') ? (await import('node:https')).request : httpRequest;
  const what = `GET ${url}`;
  const fix = `it is not the service this plan means (${expected}); no load was sent. Stop whatever holds that port, or aim the test at your service and have it answer ${what} with "${TARGET_IDENTITY_HEADER}: ${expected}"`;
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, headers: { accept: 'text/plain' } }, (res) => {
      res.resume();
      const got = res.headers[TARGET_IDENTITY_HEADER];
      const value = Array.isArray(got) ? got.join(',') : got;
      if (res.statusCode === 200 && value === expected) return resolve(null);
      resolve(`${what} answered ${res.statusCode ?? '?'}${value === undefined ? ` without ${TARGET_IDENTITY_HEADER}` : ` with ${TARGET_IDENTITY_HEADER}: ${value}`}: ${fix}`);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(`${what} failed (${err.message}): ${fix}`));
    req.end();
  });
}
