import { defineConfig } from 'drizzle-kit';

// Paths are relative to the working directory drizzle-kit runs in; run it from the repo root:
//   npx drizzle-kit generate --config apps/monitor/drizzle.config.ts
export default defineConfig({
  dialect: 'sqlite',
  schema: './apps/monitor/src/db/schema.ts',
  out: './apps/monitor/drizzle',
  strict: true,
});
