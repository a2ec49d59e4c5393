import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

// The console is served by the node: the page at "/", its assets under "/console/assets",
// the service worker at "/console/sw.js", allowed by the node's answer to control the page
// at "/" (Service-Worker-Allowed).
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
  plugins: [
    VitePWA({
      // offline.ts registers the worker through the plugin's virtual:pwa-register, with the
      // scope "/" (the default, the base "/console/", would leave the page out). Prompt mode:
      // a new build's worker waits until the operator chooses to reload (a bar says so).
      injectRegister: false,
      registerType: 'prompt',
      scope: '/',
      strategies: 'generateSW',
      filename: 'sw.js',
      manifestFilename: 'manifest.webmanifest',
      // The icons are in the precache through globPatterns already.
      includeManifestIcons: false,
      manifest: {
        id: '/',
        name: 'sitcen — situation centre',
        short_name: 'sitcen',
        description: 'The operator console of a sitcen node: the picture, reports, tasks',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        background_color: '#0f1c2e',
        theme_color: '#1c3250',
        icons: [
          { src: '/console/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/console/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/console/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/console/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // Everything the build made, the MapLibre worker (.mjs) included; the page itself
        // is precached under "/", the address the node serves it at.
        globPatterns: ['**/*.{js,mjs,css,html,svg,png,webmanifest}'],
        globIgnores: ['sw.js'],
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        manifestTransforms: [async (entries) => {
          const seen = new Set<string>();
          const manifest = entries
            .map((e) => (e.url === 'index.html' ? { ...e, url: '/' } : e))
            .filter((e) => !seen.has(e.url) && seen.add(e.url));
          return { manifest, warnings: [] };
        }],
        // Navigation: the node's page when the link answers within a few seconds, else the
        // copy kept at install (below, under runtimeCaching).
        navigateFallback: null,
        inlineWorkboxRuntime: true,
        cleanupOutdatedCaches: true,
        // The first worker takes the page at once; a later one waits for the operator
        // (SKIP_WAITING from the page), never skipping on its own.
        clientsClaim: true,
        skipWaiting: false,
        runtimeCaching: [
          {
            urlPattern: ({ request, url }) => request.mode === 'navigate' && url.pathname === '/',
            handler: 'NetworkFirst',
            options: {
              cacheName: 'sitcen-page',
              networkTimeoutSeconds: 6,
              precacheFallback: { fallbackURL: '/' },
            },
          },
          {
            // The node's reference data the console needs before it can draw anything: the
            // taxonomy, the label catalogues and the map geometry. Answered from the copy at
            // once and refreshed behind, so that the console starts on a post with no link.
            // (Written out here: the function is copied into the worker, without this file.)
            urlPattern: ({ url, sameOrigin }) => sameOrigin
              && /^\/api\/v1\/(taxonomy(\/labels)?|countries|sections|crossing-points)$/.test(url.pathname),
            handler: 'StaleWhileRevalidate',
            options: {
              cacheName: 'sitcen-reference',
              cacheableResponse: { statuses: [200] },
              expiration: { maxEntries: 64 },
            },
          },
        ],
      },
    }),
  ],
});
