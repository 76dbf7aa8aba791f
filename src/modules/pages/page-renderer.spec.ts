import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config';
import { PageRenderer } from './page-renderer';

function fakeReply() {
  const headers: Record<string, string> = {};
  let status = 200;
  const reply = {
    header: (name: string, value: string) => ((headers[name] = value), reply),
    type: (value: string) => ((headers['content-type'] = value), reply),
    code: (code: number) => ((status = code), reply),
  };
  return { reply: reply as unknown as FastifyReply, headers, status: () => status };
}

const request = (headers: Record<string, string> = {}) => ({ headers }) as unknown as FastifyRequest;
const config = { pages: { cacheSeconds: 60, staleSeconds: 30 } } as unknown as AppConfig;
const article = {
  title: 'Why <replicas>',
  status: 'done',
  html: '<p>sanitized <strong>body</strong></p>',
  author: 'Ada & co',
  createdAt: '2026-12-04T10:00:00.000Z',
  date: '4 Dec 2026',
  readingTime: '1 min read',
};

describe('PageRenderer', () => {
  const pages = new PageRenderer(config);

  it('renders escaped text around the sanitized body, cacheable by shared caches for anonymous readers', () => {
    const { reply, headers, status } = fakeReply();
    const html = pages.send(request(), reply, 'article', article);
    expect(status()).toBe(200);
    expect(html).toContain('<h1>Why &lt;replicas&gt;</h1>');
    expect(html).toContain('by Ada &amp; co');
    expect(html).toContain('<p>sanitized <strong>body</strong></p>');
    expect(headers).toMatchObject({
      // Browsers revalidate every time; only the edge may serve a stale copy (RFC 9213 CDN-Cache-Control).
      'cache-control': 'public, max-age=0, s-maxage=60',
      'cdn-cache-control': 'public, s-maxage=60, stale-while-revalidate=30, stale-if-error=30',
      vary: 'Cookie',
      'content-type': 'text/html; charset=utf-8',
    });
  });

  it('answers a request with a cookie privately, so no shared cache stores it', () => {
    const { reply, headers } = fakeReply();
    pages.send(request({ cookie: 'sid=abc' }), reply, 'article', article);
    expect(headers['cache-control']).toBe('private, no-cache');
    expect(headers['cdn-cache-control']).toBeUndefined();
  });

  it('names the page by its data: the same data is the same ETag, a 304 without rendering; new data, a new ETag', () => {
    const first = fakeReply();
    pages.send(request(), first.reply, 'article', article);
    const etag = first.headers.etag!;
    const again = fakeReply();
    expect(pages.send(request({ 'if-none-match': `W/${etag}, "other"` }), again.reply, 'article', article)).toBe('');
    expect(again.status()).toBe(304);
    const changed = fakeReply();
    const html = pages.send(request({ 'if-none-match': etag }), changed.reply, 'article', { ...article, title: 'New' });
    expect(changed.status()).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(html).toContain('<h1>New</h1>');
  });

  it('shows the pending state until the body is rendered', () => {
    const { reply } = fakeReply();
    const html = pages.send(request(), reply, 'article', { ...article, status: 'pending', html: null });
    expect(html).toContain('This article is being rendered');
    expect(html).not.toContain('sanitized');
  });
});
