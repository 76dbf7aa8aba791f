import { Client } from 'pg';
import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { HttpClient, type RequestOptions } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string | ((ctx: { articleId: string }) => string);
  readonly opts?: RequestOptions;
  readonly status: number;
  /** The message must match, and so name the field at fault. */
  readonly message?: RegExp;
}

const json = (value: unknown): RequestOptions => ({ json: value });
const raw = (body: string, contentType = 'application/json'): RequestOptions => ({
  raw: body,
  headers: { 'content-type': contentType },
});
const validSignup = { email: 'x@example.com', password: PASSWORD, name: 'X' };

const cases: Case[] = [
  // wrong types, missing and unknown fields
  {
    name: 'signup: email is a number',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ ...validSignup, email: 42 }),
    status: 400,
    message: /^email must be a string$/,
  },
  {
    name: 'signup: email is not an email',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ ...validSignup, email: 'nope' }),
    status: 400,
    message: /^email must be an email address$/,
  },
  {
    name: 'signup: password missing',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ email: 'x@example.com', name: 'X' }),
    status: 400,
    message: /^password must be a string$/,
  },
  {
    name: 'signup: password too short',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ ...validSignup, password: 'short' }),
    status: 400,
    message: /^password must be longer than or equal to 10 characters$/,
  },
  {
    name: 'signup: password too long',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ ...validSignup, password: 'x'.repeat(257) }),
    status: 400,
    message: /^password must be shorter/,
  },
  {
    name: 'signup: name is blank',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ ...validSignup, name: '   ' }),
    status: 400,
    message: /^name must not be empty$/,
  },
  {
    name: 'signup: name has a control character',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ ...validSignup, name: 'a\u0000b' }),
    status: 400,
    message: /^name must not contain control characters$/,
  },
  {
    name: 'signup: name is an object',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ ...validSignup, name: { $ne: '' } }),
    status: 400,
    message: /^name must be a string$/,
  },
  {
    name: 'signup: unknown field',
    method: 'POST',
    path: '/auth/signup',
    opts: json({ ...validSignup, isAdmin: true }),
    status: 400,
    message: /^property isAdmin should not exist$/,
  },
  {
    name: 'signup: prototype pollution key',
    method: 'POST',
    path: '/auth/signup',
    opts: raw(JSON.stringify(validSignup).replace('{', '{"__proto__":{"polluted":1},')),
    status: 400,
  },
  // found by the fuzzer (seed 908014455): half a surrogate pair made validator's isEmail throw, a 500
  {
    name: 'login: email is half a surrogate pair',
    method: 'POST',
    path: '/auth/login',
    opts: raw('{"email":"\\ud800","password":"bbbbbbbbbbbb"}'),
    status: 400,
    message: /^email must be well-formed Unicode text/,
  },
  {
    name: 'signup: name ends in half a surrogate pair',
    method: 'POST',
    path: '/auth/signup',
    opts: raw(JSON.stringify(validSignup).replace('"X"', '"X\\udc00"')),
    status: 400,
    message: /^name must be well-formed Unicode text/,
  },
  {
    name: 'article: title holds half a surrogate pair',
    method: 'POST',
    path: '/articles',
    opts: raw('{"title":"a\\ud83d b","body":"b"}'),
    status: 400,
    message: /^title must be well-formed Unicode text/,
  },
  {
    name: 'login: email is null',
    method: 'POST',
    path: '/auth/login',
    opts: json({ email: null, password: 'x' }),
    status: 400,
    message: /^email must be a string$/,
  },
  {
    name: 'login: password is an array',
    method: 'POST',
    path: '/auth/login',
    opts: json({ email: 'x@example.com', password: ['a'] }),
    status: 400,
    message: /^password must be a string$/,
  },
  {
    name: 'article: title is a number',
    method: 'POST',
    path: '/articles',
    opts: json({ title: 1, body: 'b' }),
    status: 400,
    message: /^title must be a string$/,
  },
  {
    name: 'article: body missing',
    method: 'POST',
    path: '/articles',
    opts: json({ title: 't' }),
    status: 400,
    message: /^body must be a string$/,
  },
  {
    name: 'article: title too long',
    method: 'POST',
    path: '/articles',
    opts: json({ title: 't'.repeat(201), body: 'b' }),
    status: 400,
    message: /^title must be shorter/,
  },
  {
    name: 'article: body too long',
    method: 'POST',
    path: '/articles',
    opts: json({ title: 't', body: 'b'.repeat(100_001) }),
    status: 400,
    message: /^body must be shorter/,
  },
  {
    // Found by the fuzzer: PostgreSQL text cannot hold U+0000, so the INSERT failed with a 500.
    name: 'article: body with a NUL character',
    method: 'POST',
    path: '/articles',
    opts: json({ title: 't', body: 'before\u0000after' }),
    status: 400,
    message: /^body must not contain the NUL character \(U\+0000\)$/,
  },
  {
    name: 'patch: body with a NUL character',
    method: 'PATCH',
    path: ({ articleId }) => `/articles/${articleId}`,
    opts: json({ body: '\u0000' }),
    status: 400,
    message: /^body must not contain the NUL character \(U\+0000\)$/,
  },
  {
    name: 'article: unknown field',
    method: 'POST',
    path: '/articles',
    opts: json({ title: 't', body: 'b', authorId: '00000000-0000-4000-8000-000000000000' }),
    status: 400,
    message: /^property authorId should not exist$/,
  },
  {
    name: 'patch: body is null',
    method: 'PATCH',
    path: ({ articleId }) => `/articles/${articleId}`,
    opts: json({ body: null }),
    status: 400,
    message: /^body must be a string$/,
  },
  {
    name: 'patch: revision is not writable',
    method: 'PATCH',
    path: ({ articleId }) => `/articles/${articleId}`,
    opts: json({ revision: 99 }),
    status: 400,
    message: /^property revision should not exist$/,
  },
  // bodies that are not JSON objects
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/auth/signup',
    opts: raw('{"email": '),
    status: 400,
    message: /not valid JSON/,
  },
  {
    name: 'empty JSON body',
    method: 'POST',
    path: '/articles',
    opts: raw(''),
    status: 400,
    message: /cannot be empty/,
  },
  {
    name: 'JSON null body',
    method: 'POST',
    path: '/auth/signup',
    opts: raw('null'),
    status: 400,
    message: /^request body must be a JSON object$/,
  },
  {
    name: 'JSON array body',
    method: 'POST',
    path: '/articles',
    opts: raw('[{"title":"t","body":"b"}]'),
    status: 400,
    message: /^request body must be a JSON object$/,
  },
  {
    name: 'JSON string body',
    method: 'POST',
    path: '/auth/login',
    opts: raw('"hello"'),
    status: 400,
    message: /^request body must be a JSON object$/,
  },
  {
    name: 'text/plain body',
    method: 'POST',
    path: '/auth/signup',
    opts: raw(JSON.stringify(validSignup), 'text/plain'),
    status: 415,
  },
  {
    name: 'form body',
    method: 'POST',
    path: '/auth/login',
    opts: raw('email=a&password=b', 'application/x-www-form-urlencoded'),
    status: 415,
  },
  {
    name: 'oversized body',
    method: 'POST',
    path: '/articles',
    opts: raw(JSON.stringify({ title: 't', body: 'x'.repeat(300 * 1024) })),
    status: 413,
  },
  // routes, ids and cursors
  { name: 'unknown route', method: 'GET', path: '/no/such/route', status: 404 },
  { name: 'unknown method on a known path', method: 'PUT', path: '/articles', status: 404 },
  { name: 'malformed id', method: 'GET', path: '/articles/not-a-uuid', status: 400, message: /^id must be a UUID$/ },
  {
    name: 'SQL in the id',
    method: 'GET',
    path: `/articles/${encodeURIComponent("1' OR '1'='1")}`,
    status: 400,
    message: /^id must be a UUID$/,
  },
  { name: 'over-long id', method: 'GET', path: `/articles/${'a'.repeat(500)}`, status: 414 },
  { name: 'malformed URL encoding', method: 'GET', path: '/articles/%E0%A4%A', status: 400 },
  {
    name: 'unknown article',
    method: 'GET',
    path: '/articles/00000000-0000-4000-8000-000000000000',
    status: 404,
    message: /^article not found$/,
  },
  { name: 'malformed cursor', method: 'GET', path: '/articles?cursor=%%%', status: 400 },
  {
    name: 'forged cursor',
    method: 'GET',
    path: `/articles?cursor=${Buffer.from('["2020-01-01T00:00:00.000Z","x"]').toString('base64url')}`,
    status: 400,
    message: /^cursor is invalid/,
  },
  {
    name: 'over-long cursor',
    method: 'GET',
    path: `/articles?cursor=${'a'.repeat(500)}`,
    status: 400,
    message: /^cursor must be shorter/,
  },
  {
    name: 'limit is text',
    method: 'GET',
    path: '/articles?limit=ten',
    status: 400,
    message: /^limit must be an integer$/,
  },
  {
    name: 'limit is zero',
    method: 'GET',
    path: '/articles?limit=0',
    status: 400,
    message: /^limit must not be less than 1$/,
  },
  {
    name: 'limit is fractional',
    method: 'GET',
    path: '/articles?limit=2.5',
    status: 400,
    message: /^limit must be an integer$/,
  },
  { name: 'limit is huge', method: 'GET', path: '/articles?limit=1e308', status: 400 },
  { name: 'limit given twice', method: 'GET', path: '/articles?limit=1&limit=2', status: 400 },
  {
    name: 'unknown query parameter',
    method: 'GET',
    path: '/articles?sort=title',
    status: 400,
    message: /^property sort should not exist$/,
  },
];

describe('bad input gets a clear 4xx JSON error and loses no data (real API process)', () => {
  const { env } = sharedInfra();
  let api: ApiInstance;
  let client: HttpClient;
  let articleId: string;
  let db: Client;

  beforeAll(async () => {
    api = await startApi(env, 'api-bad-input');
    client = new HttpClient(api.url);
    await signUpAndLogIn(client);
    articleId = (await client.post('/articles', { title: 'Survivor', body: 'must outlive every bad request' })).body.id;
    db = new Client({ connectionString: env.DB_PRIMARY });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await api?.stop();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const path = typeof c.path === 'function' ? c.path({ articleId }) : c.path;
    const res = await client.request(c.method, path, c.opts);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ statusCode: c.status, error: expect.any(String), message: expect.any(String) });
    if (c.message) expect(res.body.message).toMatch(c.message);
    expect(res.status).toBe(c.status);
  });

  it('stores SQL-looking and hostile strings inert, verbatim', async () => {
    const title = `Robert'); DROP TABLE articles;-- <script>alert(1)</script>`;
    const body = `'; DELETE FROM users WHERE '1'='1'; -- \u202e ${'\u{1F600}'} \\x00`;
    const created = await client.post('/articles', { title, body });
    expect(created.status).toBe(201);
    const read = await client.get(`/articles/${created.body.id}`);
    expect(read.body).toMatchObject({ title, body });
    const { rows } = await db.query('SELECT count(*)::int AS n FROM users');
    expect(rows[0].n).toBeGreaterThan(0);

    const email = uniqueEmail(`o'brien+tag`);
    const signup = await client.post('/auth/signup', {
      email,
      password: PASSWORD,
      name: `Little Bobby'); DROP TABLE users;--`,
    });
    expect(signup.status).toBe(201);
  });

  it('lost nothing: the article written before the barrage is intact', async () => {
    const read = await client.get(`/articles/${articleId}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ title: 'Survivor', body: 'must outlive every bad request', revision: 1 });
  });

  it('never answered 5xx: the instance logged no server error', async () => {
    // pino writes in order but asynchronously: once a last sentinel request is logged, all before it are too.
    const sentinel = `sentinel-${Date.now()}`;
    await client.get('/health/live', { headers: { 'x-request-id': sentinel } });
    await api.waitForLog((l) => l.requestId === sentinel);
    const serverErrors = api
      .log()
      .split('\n')
      .filter((l) => /"statusCode":5\d\d/.test(l));
    expect(serverErrors).toEqual([]);
  });
});
