import { crossSiteVerdict } from './cross-site-requests';

const req = (headers: Record<string, string>, host = 'api.example.com', protocol: 'http' | 'https' = 'https') => ({
  headers,
  host,
  protocol,
});
const allowed = new Set(['https://app.example.com']);

describe('crossSiteVerdict', () => {
  it.each([
    ['same origin', { origin: 'https://api.example.com' }],
    ['an allowed origin', { origin: 'https://app.example.com', 'sec-fetch-site': 'same-site' }],
    ['a non-browser client (no Origin, no Sec-Fetch-Site)', {}],
    ['a same-origin fetch without Origin', { 'sec-fetch-site': 'same-origin' }],
    ['a user-initiated navigation', { 'sec-fetch-site': 'none' }],
  ])('allows %s', (_, headers) => {
    expect(crossSiteVerdict(req(headers), allowed)).toBeUndefined();
  });

  it.each([
    ['a foreign origin', { origin: 'https://evil.example' }, /origin https:\/\/evil.example is not allowed/],
    ['the null origin', { origin: 'null' }, /null \(opaque\)/],
    ['the right host on the wrong scheme', { origin: 'http://api.example.com' }, /not allowed/],
    ['a cross-site request that hides its Origin', { 'sec-fetch-site': 'cross-site' }, /Sec-Fetch-Site cross-site/],
    ['a sibling subdomain without an allowed Origin', { 'sec-fetch-site': 'same-site' }, /same-site/],
  ])('refuses %s', (_, headers, reason) => {
    expect(crossSiteVerdict(req(headers), allowed)).toMatch(reason);
  });
});
