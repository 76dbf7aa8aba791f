import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { HttpClient } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

describe('stateless API instances (two real processes sharing Redis and PostgreSQL)', () => {
  const { env } = sharedInfra();
  let a: ApiInstance;
  let b: ApiInstance;

  beforeAll(async () => {
    [a, b] = await Promise.all([startApi(env, 'api-a'), startApi(env, 'api-b')]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('serves a session made on one instance from the other', async () => {
    const user = new HttpClient(a.url);
    const me = await signUpAndLogIn(user);

    user.baseUrl = b.url;
    const onB = await user.get('/auth/me');
    expect(onB.status).toBe(200);
    expect(onB.headers.get('x-served-by')).toBe('api-b');
    expect(onB.body.id).toBe(me.id);

    const created = await user.post('/articles', { title: 'Written on B', body: 'with a session from A' });
    expect(created.status).toBe(201);
    expect(created.body.author.id).toBe(me.id);

    user.baseUrl = a.url;
    const read = await user.get(`/articles/${created.body.id}`);
    expect(read.headers.get('x-served-by')).toBe('api-a');
    expect(read.body.title).toBe('Written on B');
  });

  it('ends the session everywhere when it is logged out on one instance', async () => {
    const user = new HttpClient(a.url);
    await signUpAndLogIn(user);
    const cookie = user.cookieHeader;
    user.baseUrl = b.url;
    expect((await user.post('/auth/logout')).status).toBe(204);
    const onA = await new HttpClient(a.url).get('/auth/me', { headers: { cookie } });
    expect(onA.status).toBe(401);
  });

  it('keeps a session across a restart of the instance that created it', async () => {
    const user = new HttpClient(a.url);
    const me = await signUpAndLogIn(user);
    await a.stop();
    a = await startApi(env, 'api-a');
    user.baseUrl = a.url;
    const res = await user.get('/auth/me');
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(me.id);
  });
});
