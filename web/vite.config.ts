import { defineConfig } from "vite";

// The bundle goes where `callboard serve` serves the editor from (not committed; built by
// scripts/build-web, which ./scripts/bootstrap runs on install).
export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/callboard/api/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      onwarn(warning, warn) {
        // @xyflow/react starts with "use client" (for React Server Components): harmless here.
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: {
      "/v2": "http://127.0.0.1:8000",
      "/callboard": "http://127.0.0.1:8000",
    },
  },
});
