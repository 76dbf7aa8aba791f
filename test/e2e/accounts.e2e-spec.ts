import { Redis } from 'ioredis';
import { sleep } from '../../tools/stack/ports';
import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { errorShape, HttpClient } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

describe('accounts and sessions (real API process, PostgreSQL and Redis)', () => {
  const { env } = sharedInfra();
  let api: ApiInstance;
  const redis = new Redis(env.REDIS_URL!, { lazyConnect: true });

  beforeAll(async () => {
    api = await startApi(env, 'api-accounts', { SESSION_TTL_SECONDS: '120', SESSION_TOUCH_AFTER_SECONDS: '2' });
    await redis.connect();
  });
  afterAll(async () => {
    await redis.quit();
    await api?.stop();
  });

  const client = () => new HttpClient(api.url);
  const sessionId = (c: HttpClient) => c.cookie('sid')!.split('.')[0]!;

  it('signs up, logs in, answers /auth/me, and logs out', async () => {
    const c = client();
    const email = uniqueEmail();
    const signup = await c.post('/auth/signup', { email, password: PASSWORD, name: 'Grace Hopper' });
    expect(signup.status).toBe(201);
    expect(signup.body).toEqual({ id: expect.any(String), email, name: 'Grace Hopper', createdAt: expect.any(String) });
    expect(signup.headers.getSetCookie()).toEqual([]);

    expect((await c.get('/auth/me')).status).toBe(401);

    const login = await c.post('/auth/login', { email, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.body).toEqual(signup.body);

    const me = await c.get('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual(signup.body);

    const logout = await c.post('/auth/logout');
    expect(logout.status).toBe(204);
    expect((await c.get('/auth/me')).body).toEqual(errorShape(401));
  });

  it('never returns or stores the password', async () => {
    const c = client();
    const user = await signUpAndLogIn(c);
    const me = await c.get('/auth/me');
    expect(me.text).not.toContain(PASSWORD);
    expect(Object.keys(me.body).sort()).toEqual(['createdAt', 'email', 'id', 'name']);
    const stored = await redis.get(`sess:${sessionId(c)}`);
    expect(stored).toContain(user.id);
    expect(stored).not.toContain(PASSWORD);
  });

  it('sets an HttpOnly, SameSite=Lax session cookie (not Secure unless configured)', async () => {
    const c = client();
    const email = uniqueEmail();
    await c.post('/auth/signup', { email, password: PASSWORD, name: 'Cookie' });
    const login = await c.post('/auth/login', { email, password: PASSWORD });
    const [cookie] = login.headers.getSetCookie();
    expect(cookie).toMatch(/^sid=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
  });

  it('treats emails case-insensitively and rejects a duplicate with 409', async () => {
    const c = client();
    const email = uniqueEmail();
    expect((await c.post('/auth/signup', { email, password: PASSWORD, name: 'A' })).status).toBe(201);
    const dup = await c.post('/auth/signup', { email: `  ${email.toUpperCase()} `, password: PASSWORD, name: 'B' });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'email is already registered' });
    expect((await c.post('/auth/login', { email: email.toUpperCase(), password: PASSWORD })).status).toBe(200);
  });

  it('gives the same 401 for an unknown email and for a wrong password', async () => {
    const c = client();
    const email = uniqueEmail();
    await c.post('/auth/signup', { email, password: PASSWORD, name: 'A' });
    const wrongPassword = await c.post('/auth/login', { email, password: 'not the password' });
    const unknownEmail = await c.post('/auth/login', { email: uniqueEmail(), password: PASSWORD });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(wrongPassword.body).toEqual(unknownEmail.body);
    expect(wrongPassword.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Invalid email or password',
    });
    expect(wrongPassword.headers.getSetCookie()).toEqual([]);
  });

  it('issues a new session id at login and retires the old one (no fixation)', async () => {
    const c = client();
    await signUpAndLogIn(c);
    const before = c.cookie('sid')!;
    const other = client();
    const second = await signUpAndLogIn(other);
    // Log in as someone else while presenting the first session's cookie.
    const relogin = await c.post(
      '/auth/login',
      { email: second.email, password: PASSWORD },
      { headers: { cookie: `sid=${before}` } },
    );
    expect(relogin.status).toBe(200);
    const after = c.cookie('sid')!;
    expect(after).not.toBe(before);
    expect(await redis.exists(`sess:${before.split('.')[0]}`)).toBe(0);
    const replay = await new HttpClient(api.url).get('/auth/me', { headers: { cookie: `sid=${before}` } });
    expect(replay.status).toBe(401);
  });

  it('destroys the session on logout, so a replayed cookie is rejected', async () => {
    const c = client();
    await signUpAndLogIn(c);
    const stolen = c.cookie('sid')!;
    const logout = await c.post('/auth/logout');
    expect(logout.status).toBe(204);
    expect(logout.headers.getSetCookie()[0]).toMatch(/^sid=; Max-Age=0;/);
    expect(await redis.exists(`sess:${stolen.split('.')[0]}`)).toBe(0);
    expect((await new HttpClient(api.url).get('/auth/me', { headers: { cookie: `sid=${stolen}` } })).status).toBe(401);
  });

  it('answers logout with 204 even without a session', async () => {
    expect((await client().post('/auth/logout')).status).toBe(204);
  });

  it('rolls the expiry forward on use, writing an unchanged session back at most every touch interval', async () => {
    const c = client();
    await signUpAndLogIn(c);
    const key = `sess:${sessionId(c)}`;
    await redis.expire(key, 30);
    // Written at sign-in, under 2 s ago: this request only re-sends the cookie, Redis keeps the shortened TTL.
    expect((await c.get('/auth/me')).status).toBe(200);
    expect(await redis.ttl(key)).toBeLessThanOrEqual(30);
    await sleep(2100);
    const me = await c.get('/auth/me');
    expect(me.status).toBe(200);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
    const expires = Date.parse(/Expires=([^;]+)/.exec(me.headers.getSetCookie()[0]!)![1]!);
    expect(expires - Date.now()).toBeGreaterThan(100_000);
  });

  it('rejects a forged or tampered cookie', async () => {
    const c = client();
    await signUpAndLogIn(c);
    const [id, sig] = c.cookie('sid')!.split('.');
    for (const forged of [`${id}.${sig!.slice(0, -2)}xx`, `${id}`, 'garbage', '']) {
      const res = await new HttpClient(api.url).get('/auth/me', { headers: { cookie: `sid=${forged}` } });
      expect(res.status).toBe(401);
      // The browser is told to drop it, rather than send it with every request.
      expect(res.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=; Max-Age=0; Path=\/;/)]);
    }
    // An anonymous request that carries another site's cookies is left alone.
    const other = await new HttpClient(api.url).get('/health/live', { headers: { cookie: 'theme=dark' } });
    expect(other.headers.getSetCookie()).toEqual([]);
  });

  it('treats a stored value that is not a session as no session: a 401 and a cleared cookie, never a 500', async () => {
    const c = client();
    await signUpAndLogIn(c);
    await redis.set(`sess:${sessionId(c)}`, '{"not":"a session"', 'EX', 60);
    const me = await c.get('/auth/me');
    expect(me.status).toBe(401);
    expect(me.headers.getSetCookie()[0]).toMatch(/^sid=; Max-Age=0;/);
  });

  it('keeps serving a session that @fastify/session stored before this session layer replaced it', async () => {
    const c = client();
    const user = await signUpAndLogIn(c);
    const key = `sess:${sessionId(c)}`;
    const legacy = { cookie: { originalMaxAge: 120_000, expires: new Date(Date.now() + 120_000) }, userId: user.id };
    await redis.set(key, JSON.stringify(legacy), 'EX', 120);
    const me = await c.get('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.id);
    // It has no write time, so its touch is due at once: rewritten in this layer's form.
    expect(JSON.parse((await redis.get(key))!)).toEqual({ userId: user.id, writtenAt: expect.any(Number) });
  });
});
