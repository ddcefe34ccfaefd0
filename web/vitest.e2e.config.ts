import { defineConfig } from "vitest/config";

// The end-to-end test: one browser and one stack, its steps in order (npm run test:e2e).
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    reporters: ["verbose"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Steps build on each other: after the first failure the rest would only repeat it.
    bail: 1,
  },
});
