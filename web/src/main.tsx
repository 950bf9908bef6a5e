import './i18n/index.js';
import './styles/theme.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { takeLocalFeedFromLocation } from './api/local-feed.js';

// A setup link may carry the gateway's local feed (address and token): keep it, and clear the address bar.
takeLocalFeedFromLocation();

// The service worker only makes the app installable and its shell open offline; see public/sw.js.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => undefined);
  });
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
