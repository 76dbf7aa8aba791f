import { Client } from 'pg';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { errorShape, HttpClient } from '../support/http-client';
import { waitForReplicas } from '../support/replication';
import { sharedInfra } from '../support/shared-infra';

describe('articles CRUD (real API process and PostgreSQL)', () => {
  const { env } = sharedInfra();
  let api: ApiInstance;
  let author: HttpClient;
  let other: HttpClient;
  let authorId: string;

  beforeAll(async () => {
    api = await startApi(env, 'api-articles');
    author = new HttpClient(api.url);
    other = new HttpClient(api.url);
    authorId = (await signUpAndLogIn(author, 'Author')).id;
    await signUpAndLogIn(other, 'Someone Else');
  });
  afterAll(() => api?.stop());

  const create = async (title = 'A title', body = 'Some *markdown*') => {
    const res = await author.post('/articles', { title, body });
    expect(res.status).toBe(201);
    return res.body;
  };

  it('creates an article for the signed-in author, pending render', async () => {
    const res = await author.post('/articles', { title: '  Trimmed title  ', body: '# Hello\n\nworld' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      title: 'Trimmed title',
      body: '# Hello\n\nworld',
      author: { id: authorId, name: 'Author' },
      revision: 1,
      render: {
        status: 'pending',
        html: null,
        readingTimeMinutes: null,
        error: null,
        jobId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    // The author reads their own write (read-your-writes); an anonymous reader may hit a replica still behind.
    const read = await author.get(`/articles/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
  });

  it('requires a session to write', async () => {
    const anon = new HttpClient(api.url);
    expect((await anon.post('/articles', { title: 't', body: 'b' })).body).toEqual(errorShape(401));
    const article = await create();
    expect((await anon.patch(`/articles/${article.id}`, { title: 'x' })).status).toBe(401);
    expect((await anon.delete(`/articles/${article.id}`)).status).toBe(401);
  });

  it('lets only the author change or delete, and leaves the article intact otherwise', async () => {
    const article = await create('Mine', 'original body');
    const patch = await other.patch(`/articles/${article.id}`, { title: 'Hijacked' });
    expect(patch.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'only the author can change this article',
    });
    expect((await other.delete(`/articles/${article.id}`)).status).toBe(403);
    const read = await author.get(`/articles/${article.id}`);
    expect(read.body.title).toBe('Mine');
  });

  it('updates the title without touching the render, and a new body bumps the revision', async () => {
    const article = await create('Before', 'body v1');
    const titled = await author.patch(`/articles/${article.id}`, { title: 'After' });
    expect(titled.status).toBe(200);
    expect(titled.body).toMatchObject({ title: 'After', body: 'body v1', revision: 1 });
    const rebodied = await author.patch(`/articles/${article.id}`, { body: 'body v2' });
    expect(rebodied.body).toMatchObject({
      title: 'After',
      body: 'body v2',
      revision: 2,
      render: { status: 'pending' },
    });
    const same = await author.patch(`/articles/${article.id}`, { body: 'body v2' });
    expect(same.body.revision).toBe(2);
    expect(Date.parse(rebodied.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(article.updatedAt));
  });

  it('rejects an empty patch and a null field', async () => {
    const article = await create();
    expect((await author.patch(`/articles/${article.id}`, {})).body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'send title, body, or both',
    });
    const nullTitle = await author.patch(`/articles/${article.id}`, { title: null });
    expect(nullTitle.status).toBe(400);
    expect(nullTitle.body.message).toMatch(/^title /);
    expect((await author.get(`/articles/${article.id}`)).body.title).toBe(article.title);
  });

  it('deletes: 204, then 404 for reads, updates and deletes', async () => {
    const article = await create();
    expect((await author.delete(`/articles/${article.id}`)).status).toBe(204);
    expect((await author.get(`/articles/${article.id}`)).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'article not found',
    });
    expect((await author.patch(`/articles/${article.id}`, { title: 'x' })).status).toBe(404);
    expect((await author.delete(`/articles/${article.id}`)).status).toBe(404);
  });

  it('pages newest first with a cursor, without skipping or repeating, even for equal timestamps', async () => {
    // A private author, so other suites' writes cannot interleave: list their 7 articles from the top.
    const db = new Client({ connectionString: env.DB_PRIMARY });
    await db.connect();
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 7; i++) ids.add((await create(`page item ${i}`)).id);
      // Same created_at for several rows: the id tie-breaker must keep the order total.
      await db.query(`UPDATE articles SET created_at = '2099-01-01T00:00:00.000Z' WHERE id = ANY($1)`, [
        [...ids].slice(0, 4),
      ]);
      await db.query(`UPDATE articles SET created_at = '2098-01-01T00:00:00.000Z' WHERE id = ANY($1)`, [
        [...ids].slice(4),
      ]);
      // Written behind the API's back, so no session position covers it: let the replicas catch up first.
      await waitForReplicas(env);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: {
          status: number;
          body: { items: Array<{ id: string; createdAt: string }>; nextCursor: string | null };
        } = await author.get(`/articles?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((i) => i.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && seen.length < 7);
      expect(pages).toBe(3);
      // The third page may continue with older articles of other suites; ours are exactly the first 7.
      const ours = seen.slice(0, 7);
      expect(new Set(ours)).toEqual(ids);
      expect(seen.slice(7).some((id) => ids.has(id))).toBe(false);
      const { rows } = await db.query(`SELECT id FROM articles WHERE id = ANY($1) ORDER BY created_at DESC, id DESC`, [
        [...ids],
      ]);
      expect(ours).toEqual(rows.map((r: { id: string }) => r.id));
    } finally {
      await db.query(`UPDATE articles SET created_at = now() - interval '1 day' WHERE created_at > now()`);
      await db.end();
    }
  });

  it('lists summaries without bodies, 20 by default, and at most 100', async () => {
    for (let i = 0; i < 3; i++) await create(`summary ${i}`);
    const res = await author.get('/articles');
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThanOrEqual(3);
    expect(res.body.items.length).toBeLessThanOrEqual(20);
    expect(Object.keys(res.body.items[0]).sort()).toEqual([
      'author',
      'createdAt',
      'id',
      'render',
      'title',
      'updatedAt',
    ]);
    expect((await author.get('/articles?limit=100')).status).toBe(200);
    expect((await author.get('/articles?limit=101')).body).toEqual(errorShape(400));
  });
});
