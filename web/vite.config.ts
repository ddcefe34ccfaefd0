import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the client with hot reload and forwards the API and the images to a
// running stack (scripts/run), so that everything stays same-origin as behind the edge.
const stack = process.env.IMGEDGE_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2022",
    // The edge serves dist/ and caches assets/ as immutable (content-hashed names).
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
  },
  server: {
    proxy: {
      "/v1": stack,
      "/i": stack,
    },
  },
});
