import { defineConfig } from "vitest/config";

// Unit tests: plain Node, no DOM. The end-to-end test has its own config.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
