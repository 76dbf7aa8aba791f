import type { Page } from 'playwright-core';

// These functions run in the page: the few DOM members they use, without the DOM lib in the Node build.
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  querySelector(selector: string): PageElement | null;
}
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
};

/** One box of the architecture page as the DOM shows it. */
export interface ArchitectureNode {
  readonly name: string;
  readonly kind: string;
  readonly health: string;
  readonly role: string | null;
  /** The visible state label (icon and word), so colour is never the only signal. */
  readonly healthText: string;
}

/** Opens /_gateway/ and signs in through its form; resolves once the stream is live or the form shows an error. */
export async function openArchitecturePage(page: Page, gatewayUrl: string, token: string): Promise<void> {
  if (!page.url().startsWith(`${gatewayUrl}/_gateway/`)) await page.goto(`${gatewayUrl}/_gateway/`);
  await page.locator('#sign-in').waitFor({ state: 'visible' });
  await page.locator('#token').fill(token);
  await page.locator('#sign-in button[type="submit"]').click();
  await page.waitForFunction(
    () =>
      document.getElementById('connection')!.dataset.connection === 'live' ||
      document.getElementById('sign-in-error')!.textContent !== '',
    undefined,
    { timeout: 10_000 },
  );
}

export function architectureNodes(page: Page): Promise<ArchitectureNode[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.node')].map((li) => ({
      name: li.dataset.node ?? '',
      kind: li.dataset.kind ?? '',
      health: li.dataset.health ?? '',
      role: li.dataset.role ?? null,
      healthText: li.querySelector('.node-health')?.textContent ?? '',
    })),
  );
}

/** Waits until every named box shows `health` (its data-health attribute). */
export async function waitForHealth(
  page: Page,
  names: readonly string[],
  health: string,
  timeoutMs: number,
): Promise<void> {
  await page.waitForFunction(
    ([wanted, h]) => wanted.every((n) => document.querySelector(`[data-node="${n}"][data-health="${h}"]`) !== null),
    [names, health] as const,
    { timeout: timeoutMs },
  );
}

/** The raw values (data-value) of one metric on every box of a kind; an empty value is null. */
export function metricValues(page: Page, kind: string, metric: string): Promise<Array<number | null>> {
  return page.evaluate(
    ([k, m]) =>
      [...document.querySelectorAll(`[data-kind="${k}"] [data-metric="${m}"]`)].map((dd) =>
        dd.dataset.value ? Number(dd.dataset.value) : null,
      ),
    [kind, metric] as const,
  );
}

/** The sequence number of the last snapshot the page drew. */
export function snapshotSeq(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.getElementById('flow')?.dataset.seq ?? 0));
}

/** The text of the "Changes" log. */
export function changesText(page: Page): Promise<string> {
  return page.evaluate(() => document.getElementById('changes')?.textContent ?? '');
}
