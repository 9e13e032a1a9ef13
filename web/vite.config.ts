// Two pages, built into dist/ and embedded in the `web` function
// (functions/web): the client (index.html, served at /) and the API
// reference (docs.html, served at /docs). Hashed files go to dist/assets/,
// which the function serves as immutable.
import { defineConfig } from "vite";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Every browser the client targets loads modules natively.
    modulePreload: { polyfill: false },
    // The reference page's renderer is one large module; it is loaded only there.
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // Relative to web/, where npm runs the build.
      input: { index: "index.html", docs: "docs.html" },
    },
  },
  server: { fs: { allow: [".."] } },
});
