import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

// The console is built once into dist/renderer and served by the core at `/` (and loaded
// from the core's URL by Electron). `npm run dev` proxies the API to a core on :8787.
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8787',
      '/socket.io': { target: 'ws://127.0.0.1:8787', ws: true },
    },
  },
});
