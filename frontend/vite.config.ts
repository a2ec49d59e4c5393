import { defineConfig } from 'vite';

// The console is served by the node: the page at "/", its assets under "/console/assets".
export default defineConfig({
  base: '/console/',
  build: {
    outDir: '../src/sitcen/console',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 2500,
    // Inline nothing as data: URLs; every asset is a hashed file the node can cache.
    assetsInlineLimit: 0,
  },
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
});
