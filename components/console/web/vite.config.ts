// Builds the console into dist/ for the console component to embed:
// index.html plus content-hashed files under assets/ (served as immutable).
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything is embedded in the component: no inlined data URIs that
    // the page's Content-Security-Policy would have to allow as scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
});
