import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../tools/stack/node-programs';
import { sleep } from '../../tools/stack/ports';
import { openArchitecturePage, waitForHealth } from './architecture-page';
import { launchBrowser } from './browser';

/**
 * `npm run docs:architecture-screenshot`: docs/architecture-page.png from a running `npm run stack`.
 * GATEWAY_URL (http://127.0.0.1:8080), STACK_DIR (.stack, for the admin token) and OUT may be overridden.
 */
async function main(): Promise<void> {
  const gatewayUrl = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080';
  const stackDir = resolve(process.env.STACK_DIR ?? join(REPO_ROOT, '.stack'));
  const out = resolve(process.env.OUT ?? join(REPO_ROOT, 'docs', 'architecture-page.png'));
  const token = readFileSync(join(stackDir, 'gateway-admin-token'), 'utf8').trim();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await openArchitecturePage(page, gatewayUrl, token);
    await waitForHealth(page, ['gateway', 'primary', 'redis', 'queue'], 'up', 15_000);
    // A few seconds of bounded traffic, so the rates and hit ratios show numbers rather than dashes.
    const until = Date.now() + 4000;
    for (let i = 0; i < 2000 && Date.now() < until; i++) {
      await fetch(`${gatewayUrl}${i % 3 === 0 ? '/static/demo.css' : '/articles?limit=5'}`).then((r) =>
        r.arrayBuffer(),
      );
      await sleep(5);
    }
    await sleep(1500);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
