import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { errorShape, HttpClient } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

describe('cookie-session security: CSRF, CORS and account hardening (real API process)', () => {
  const { env } = sharedInfra();
  const allowedOrigin = 'https://app.example.test';
  let api: ApiInstance;

  beforeAll(async () => {
    api = await startApi(env, 'api-security', { CORS_ORIGINS: allowedOrigin });
  });
  afterAll(() => api?.stop());

  const client = () => new HttpClient(api.url);

  describe('cross-site request forgery', () => {
    it('refuses a state change from a foreign origin and from an opaque one, and writes nothing', async () => {
      const c = client();
      await signUpAndLogIn(c);
      const before = (await c.get('/articles?limit=100')).body.items.length;
      for (const origin of ['https://evil.example', 'null']) {
        const res = await c.post('/articles', { title: 'forged', body: 'x' }, { headers: { origin } });
        expect(res.status).toBe(403);
        expect(res.body).toEqual({
          statusCode: 403,
          error: 'Forbidden',
          message: expect.stringMatching(/^cross-site request refused: origin/),
        });
      }
      const hidden = await c.post(
        '/articles',
        { title: 'forged', body: 'x' },
        { headers: { 'sec-fetch-site': 'cross-site' } },
      );
      expect(hidden.status).toBe(403);
      expect(
        (await c.get('/articles?limit=100')).body.items.filter((a: { title: string }) => a.title === 'forged'),
      ).toEqual([]);
      expect((await c.get('/articles?limit=100')).body.items.length).toBeGreaterThanOrEqual(before);
    });

    it('refuses login CSRF (logging a victim into the attacker account)', async () => {
      const res = await client().post(
        '/auth/login',
        { email: 'a@b.example', password: 'whatever' },
        { headers: { origin: 'https://evil.example' } },
      );
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
    });

    it('allows the same origin, an allowed origin, and non-browser clients', async () => {
      const c = client();
      await signUpAndLogIn(c);
      const own = new URL(api.url).origin;
      const cases: Array<Record<string, string>> = [
        { origin: own, 'sec-fetch-site': 'same-origin' },
        { origin: allowedOrigin, 'sec-fetch-site': 'cross-site' },
        {},
      ];
      for (const headers of cases) {
        expect((await c.post('/articles', { title: 'legit', body: 'x' }, { headers })).status).toBe(201);
      }
    });

    it('accepts only JSON bodies, so an HTML form cannot post', async () => {
      const c = client();
      await signUpAndLogIn(c);
      const form = await c.request('POST', '/articles', {
        raw: 'title=t&body=b',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(415);
      const multipart = await c.request('POST', '/articles', {
        raw: '--x\r\n\r\n--x--',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
      });
      expect(multipart.status).toBe(415);
    });
  });

  describe('CORS', () => {
    it('allows credentials only for configured origins', async () => {
      const preflight = (origin: string) =>
        client().request('OPTIONS', '/articles', {
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      const ok = await preflight(allowedOrigin);
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
      expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
      // Without a matching Allow-Origin the browser refuses the response, whatever else is sent.
      const evil = await preflight('https://evil.example');
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
      const read = await client().get('/auth/me', { headers: { origin: 'https://evil.example' } });
      expect(read.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('logs', () => {
    it('never contain a password, a cookie or a session id', async () => {
      const c = client();
      const secret = `log canary ${Date.now()} passphrase`;
      const email = uniqueEmail('canary');
      await c.post('/auth/signup', { email, password: secret, name: 'Canary' });
      await c.post('/auth/login', { email, password: secret });
      await c.post('/auth/login', { email, password: `${secret} wrong` });
      await c.post('/auth/password', { currentPassword: secret, newPassword: `${secret} v2` });
      const sid = c.cookie('sid')!;
      await c.get('/auth/me', { headers: { 'x-request-id': `canary-${Date.now()}` } });
      const sentinel = `sentinel-${Date.now()}`;
      await c.get('/health/live', { headers: { 'x-request-id': sentinel } });
      await api.waitForLog((l) => l.requestId === sentinel);
      const log = api.log();
      expect(log).toContain('/auth/login');
      expect(log).not.toContain(secret);
      expect(log).not.toContain(sid.split('.')[0]);
      expect(log).not.toMatch(/sid=/);
    });
  });

  describe('accounts', () => {
    it('rejects a common password at signup, naming the field', async () => {
      const res = await client().post('/auth/signup', { email: uniqueEmail(), password: 'password123', name: 'N' });
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.stringMatching(/^password is too common/),
      });
    });

    it('verifies a dummy hash for an unknown email, so it costs the same as a wrong password', async () => {
      const verifications = async (outcome: string) => {
        const text = (await client().get('/metrics')).text;
        const line = text
          .split('\n')
          .find((l) => l.startsWith('auth_password_verifications_total{') && l.includes(`outcome="${outcome}"`));
        return line ? Number(line.split(' ').at(-1)) : 0;
      };
      const [noAccount, mismatch] = [await verifications('no_account'), await verifications('mismatch')];
      const c = client();
      const user = await signUpAndLogIn(c);
      const unknown = await client().post('/auth/login', { email: uniqueEmail(), password: PASSWORD });
      const wrong = await client().post('/auth/login', { email: user.email, password: 'definitely wrong' });
      expect(unknown.body).toEqual(wrong.body);
      expect((await verifications('no_account')) - noAccount).toBe(1);
      expect((await verifications('mismatch')) - mismatch).toBe(1);
    });

    it('logs out everywhere: every session of the user ends', async () => {
      const laptop = client();
      const user = await signUpAndLogIn(laptop);
      const phone = client();
      expect((await phone.post('/auth/login', { email: user.email, password: PASSWORD })).status).toBe(200);
      const bystander = client();
      await signUpAndLogIn(bystander);

      const res = await laptop.post('/auth/logout-all');
      expect(res.status).toBe(204);
      expect((await laptop.get('/auth/me')).body).toEqual(errorShape(401));
      expect((await phone.get('/auth/me')).status).toBe(401);
      expect((await bystander.get('/auth/me')).status).toBe(200);
      expect((await client().post('/auth/logout-all')).status).toBe(401);
    });

    it('changes the password: other sessions end, this one continues under a new id', async () => {
      const laptop = client();
      const user = await signUpAndLogIn(laptop);
      const phone = client();
      await phone.post('/auth/login', { email: user.email, password: PASSWORD });
      const before = laptop.cookie('sid');
      const newPassword = 'a brand new passphrase 42';

      const res = await laptop.post('/auth/password', { currentPassword: PASSWORD, newPassword });
      expect(res.status).toBe(204);
      expect(laptop.cookie('sid')).not.toBe(before);
      expect((await laptop.get('/auth/me')).status).toBe(200);
      expect((await phone.get('/auth/me')).status).toBe(401);
      expect((await new HttpClient(api.url).get('/auth/me', { headers: { cookie: `sid=${before}` } })).status).toBe(
        401,
      );
      expect((await client().post('/auth/login', { email: user.email, password: PASSWORD })).status).toBe(401);
      expect((await client().post('/auth/login', { email: user.email, password: newPassword })).status).toBe(200);
    });

    it.each([
      [
        'a wrong current password',
        { currentPassword: 'not it at all', newPassword: 'another fine passphrase' },
        /^currentPassword is incorrect$/,
      ],
      ['a common new password', { currentPassword: PASSWORD, newPassword: 'qwertyuiop' }, /^newPassword is too common/],
      ['the same password', { currentPassword: PASSWORD, newPassword: PASSWORD }, /^newPassword must differ/],
      ['a missing field', { currentPassword: PASSWORD }, /^newPassword must be a string$/],
    ])('refuses a password change with %s and keeps the old password', async (_, body, message) => {
      const c = client();
      const user = await signUpAndLogIn(c);
      const res = await c.post('/auth/password', body);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
      expect((await client().post('/auth/login', { email: user.email, password: PASSWORD })).status).toBe(200);
    });
  });
});
