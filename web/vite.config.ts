import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The server owns /api and the Socket.IO endpoint; in development Vite forwards both to it,
// so the app always talks to its own origin (as it does when the server serves dist/).
const server = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: server },
      '/socket.io': { target: server, ws: true },
    },
  },
  build: { outDir: 'dist', sourcemap: true },
});
