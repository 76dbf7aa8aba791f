// @swc/jest compiles everything, node_modules included, to CommonJS: Nest 12 is ESM-only and jest's
// module system has no require(esm). Do not switch to --experimental-vm-modules: in that mode jest refuses the CommonJS packages that require() the
// ESM-only @nestjs/common (@nestjs/throttler, @bull-board/nestjs), and fastify.inject and Swagger's static files break.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const common = {
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transformIgnorePatterns: [],
  transform: { '^.+\\.(t|j|mj|cj)s$': swc },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/src', '<rootDir>/tools', '<rootDir>/docker'],
      testMatch: ['**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      // One shared PostgreSQL primary + replicas and Redis for suites that only read and write;
      // suites that kill or freeze nodes start their own through the same harness.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
    },
    {
      ...common,
      // docker/ on a real engine (test/docker/): `npm test` runs it after the others, alone, as it needs the
      // whole machine; it skips, saying why once, where no Docker engine answers.
      displayName: 'docker',
      roots: ['<rootDir>/test/docker'],
      testMatch: ['**/*.docker-spec.ts'],
    },
  ],
};
