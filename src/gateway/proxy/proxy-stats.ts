/**
 * Plain counters bumped on the hot path and read by the metrics registry at scrape time: cheaper than
 * prom-client label lookups per request.
 */
export class ProxyStats {
  /** Responses by status class: index 1..5 for 1xx..5xx. */
  readonly responses = [0, 0, 0, 0, 0, 0];
  retries = 0;
  noUpstream = 0;
  upstreamFailures = 0;
  /** Upstream broke after the response started: the client got a truncated response (connection closed). */
  truncated = 0;
  clientAborts = 0;
  rejected = { headersTooLarge: 0, bodyTooLarge: 0, timeout: 0, malformed: 0, connectionCap: 0, privatePath: 0 };
  activeRequests = 0;
}
