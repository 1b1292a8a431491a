import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run on the TypeScript sources of sibling workspaces, not on their build output,
    // so `npm test` never tests a stale dist/.
    alias: [
      {
        find: /^@rdmasched\/([a-z-]+)$/,
        replacement: `${root}$1/src/index.ts`,
      },
      {
        find: /^@rdmasched\/([a-z-]+)\/(.+)$/,
        replacement: `${root}$1/src/$2.ts`,
      },
    ],
  },
  test: {
    include: ['*/src/**/*.test.ts', '*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['./testkit/src/vitest-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
