// The Custom UI's entry. Forge serves index.html and these files from its
// CDN into a sandboxed iframe; there is no server-side rendering. This
// script loads the real @forge/bridge (only when Forge's __bridge is there:
// the package throws without it), leaves the few things the app needs at
// window.__appHost, then starts the same wasm bundle the Connect pages
// hydrate, in client-rendered mode (app/src/host/forge.rs reads __appHost).

// UI invocations end after 25 s in Forge; the page says so instead of hanging.
const UI_CALL_TIMEOUT_MS = 25000;

function withTimeout(promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the app did not answer within 25 s')), UI_CALL_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function start() {
  if (!globalThis.__bridge) {
    document.body.textContent = 'This page is a Forge app: open it from Jira or Confluence.';
    return;
  }
  const bridge = await import('./bridge.js');
  const [context, history] = await Promise.all([bridge.getContext(), bridge.createHistory()]);
  // Follows the product's light, dark and custom themes (data-color-mode on <html>).
  await bridge.theme.enable();
  window.__appHost = {
    moduleKey: (context && context.moduleKey) || '',
    historyPath: (history.location && history.location.pathname) || '/',
    requestRemote: (remoteKey, path, init) => withTimeout(bridge.requestRemote(remoteKey, { path, ...init })),
    push: (path) => history.push(path),
    listen: (callback) => history.listen((location) => callback(location.pathname)),
  };
  const bundle = document.querySelector('meta[name="app-bundle"]').content;
  const bindings = './' + bundle + '.js';
  const app = await import(bindings);
  await app.default({ module_or_path: './' + bundle + '_bg.wasm' });
  app.mount_forge();
}

start().catch((error) => {
  document.body.textContent = 'The app could not start: ' + error.message;
  throw error;
});
