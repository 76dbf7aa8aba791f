import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { uniqueEmail } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { ARTIFACTS, launchBrowser } from '../support/browser';
import { HttpClient } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

describe('Swagger UI in a real browser (Debian Chromium, real API process)', () => {
  const { env } = sharedInfra();
  let api: ApiInstance;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [api, browser] = await Promise.all([startApi(env, 'api-swagger'), launchBrowser()]);
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.stop();
  });

  /** Expands an operation, presses "Try it out", optionally types a JSON body, presses "Execute". */
  async function tryItOut(operationId: string, method: string, path: string, body?: unknown) {
    const block = page.locator(`#operations-${operationId}`);
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body, null, 2));
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === path && r.request().method() === method),
      block.locator('button.execute').click(),
    ]);
    const status = block.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor();
    return { response, shownStatus: (await status.innerText()).trim(), block };
  }

  it('signs up, logs in (the browser keeps the cookie) and creates an article through "Try it out"', async () => {
    await page.goto(`${api.url}/docs`);
    await page.locator('.opblock').first().waitFor();
    const email = uniqueEmail('swagger');
    const password = 'a swagger ui passphrase';

    const signup = await tryItOut('auth-AccountsController_signup', 'POST', '/auth/signup', {
      email,
      password,
      name: 'Swagger User',
    });
    expect(signup.response.status()).toBe(201);
    expect(signup.shownStatus).toBe('201');

    const login = await tryItOut('auth-AccountsController_login', 'POST', '/auth/login', { email, password });
    expect(login.response.status()).toBe(200);
    const cookies = await page.context().cookies(api.url);
    expect(cookies.find((c) => c.name === 'sid')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

    const title = `Written in Swagger UI ${Date.now()}`;
    const create = await tryItOut('articles-ArticlesController_create', 'POST', '/articles', {
      title,
      body: '# From the browser',
    });
    expect(create.response.status()).toBe(201);
    expect(create.shownStatus).toBe('201');
    await create.block.screenshot({ path: join(ARTIFACTS, 'swagger-create-article.png') });
    const { id } = (await create.response.json()) as { id: string };

    // The article exists for everyone, through the API itself.
    const read = await new HttpClient(api.url).get(`/articles/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ title, author: { name: 'Swagger User' } });
  });

  it('lists the operations a newcomer needs first, with example values to try', async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`${api.url}/docs`);
    const tags = await fresh.locator('.opblock-tag').allInnerTexts();
    expect(tags.map((t) => t.split('\n')[0]!.trim())).toEqual([
      'auth',
      'articles',
      'jobs',
      'health',
      'observability',
      'admin',
    ]);
    const signup = fresh.locator('#operations-auth-AccountsController_signup');
    await signup.locator('.opblock-summary').click();
    const example = await signup.locator('.opblock-section-request-body').innerText();
    expect(example).toContain('"email": "ada@example.com"');
    expect(example).toContain('"name": "Ada Lovelace"');
    await fresh.close();
  });
});
