import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes SQL migrations into migrations/, which wrangler applies
// (wrangler.toml `migrations_dir`) and the tests apply before each test file.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema/index.ts",
  out: "./migrations",
});
