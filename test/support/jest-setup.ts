// Real processes and real databases: allow a minute per test (testTimeout is not a per-project option).
jest.setTimeout(60_000);
