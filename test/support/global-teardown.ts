export default async function globalTeardown(): Promise<void> {
  await globalThis.__Z2M_SHARED_INFRA__?.stop();
}
