//! The scripts of the fake Forge product page and of the bridge it puts in
//! the Custom UI's frame (`custom_ui`): the frame asks, the product page
//! answers (context, theme, history, `requestRemote`).

/// What Forge puts in the frame: `__bridge.callBridge`, answered by the
/// product page through postMessage, and a report of every error and CSP
/// violation to that page (the tests read them there).
pub(super) const BRIDGE_JS: &str = r#"(function () {
  var pending = {}, next = 1;
  function tell(message) { window.parent.postMessage(message, '*'); }
  var consoleError = console.error;
  console.error = function () {
    tell({ type: 'forge.error', text: Array.prototype.map.call(arguments, String).join(' ') });
    return consoleError.apply(console, arguments);
  };
  window.addEventListener('error', function (e) { tell({ type: 'forge.error', text: String(e.message) }); });
  window.addEventListener('unhandledrejection', function (e) {
    tell({ type: 'forge.error', text: String(e.reason && e.reason.message || e.reason) });
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    tell({ type: 'forge.violation', text: e.violatedDirective + ' ' + e.blockedURI });
  });
  var themed = false;
  function applyTheme(mode) { if (themed) applyProductTheme(mode); }
  window.addEventListener('message', function (e) {
    if (e.source !== window.parent) return;
    var m = e.data || {};
    if (m.type === 'forge.answer' && pending[m.id]) {
      var p = pending[m.id]; delete pending[m.id];
      if (m.error) p.reject(new Error(m.error)); else p.resolve(m.result);
    }
    if (m.type === 'forge.theme') applyTheme(m.colorMode);
  });
  function ask(name, payload) {
    var id = next++;
    return new Promise(function (resolve, reject) {
      pending[id] = { resolve: resolve, reject: reject };
      tell({ type: 'forge.call', id: id, name: name, payload: payload });
    });
  }
  // The product owns the history: it says where the page starts (a deep
  // link), keeps the entries, and tells the page when back or forward moves.
  function createHistory() {
    return ask('createHistory').then(function (start) {
      var listeners = [];
      var history = {
        location: { pathname: start.pathname },
        push: function (path) {
          history.location = { pathname: path };
          tell({ type: 'forge.history', path: path });
          listeners.forEach(function (l) { l(history.location, 'PUSH'); });
        },
        go: function (delta) { tell({ type: 'forge.history.go', delta: delta }); },
        back: function () { history.go(-1); },
        forward: function () { history.go(1); },
        listen: function (l) {
          listeners.push(l);
          return function () { listeners = listeners.filter(function (x) { return x !== l; }); };
        }
      };
      window.addEventListener('message', function (e) {
        var m = e.data || {};
        if (e.source !== window.parent || m.type !== 'forge.history.pop') return;
        history.location = { pathname: m.path };
        listeners.forEach(function (l) { l(history.location, 'POP'); });
      });
      return history;
    });
  }
  window.__bridge = { callBridge: function (name, payload) {
    if (name === 'createHistory') return createHistory();
    if (name === 'enableTheming') {
      return ask('enableTheming').then(function (theme) { themed = true; applyTheme(theme.colorMode); });
    }
    return ask(name, payload);
  } };
})();
"#;

/// The product side of the bridge: answers the frame's calls, keeps what it
/// reported, and follows the light/dark switch.
pub(super) const PRODUCT_PAGE_JS: &str = r#"
window.__forgeErrors = []; window.__forgeViolations = []; window.__forgeHistory = []; window.__forgeCalls = 0;
var context = __CONTEXT__, fitUrl = __FIT_URL__, remote = __REMOTE__, cdn = __CDN__, theme = __THEME__;
var frame = document.getElementById('forge-frame');
var entries = [__START__], at = 0;
function go(delta) {
  if (at + delta < 0 || at + delta >= entries.length) return;
  at += delta;
  frame.contentWindow.postMessage({ type: 'forge.history.pop', path: entries[at] }, cdn);
}
document.getElementById('history-back').addEventListener('click', function () { go(-1); });
document.getElementById('history-forward').addEventListener('click', function () { go(1); });
// requestRemote as a product page makes it: a FIT from the product's own
// server, then the call from this page, cross-origin, to the remote.
function fetchRemote(payload) {
  var init = payload.fetchRequestInit || {}, path = String(init.path || '');
  if (path.charAt(0) !== '/' || path.charAt(1) === '/') return Promise.reject(new Error('not a path of the remote'));
  return fetch(fitUrl, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ remoteKey: payload.remoteKey }) }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t); });
      return r.json();
    }).then(function (fit) {
      var headers = new Headers();
      (init.headers || []).forEach(function (pair) {
        if (String(pair[0]).toLowerCase() !== 'authorization') headers.append(pair[0], pair[1]);
      });
      headers.set('authorization', 'Bearer ' + fit.token);
      return fetch(remote + path, { method: init.method || 'GET', headers: headers, body: init.body,
        mode: 'cors', credentials: 'omit' });
    }).then(function (r) {
      var seen = {};
      r.headers.forEach(function (value, name) { seen[name] = value; });
      return r.text().then(function (body) {
        return { status: r.status, statusText: r.statusText, headers: seen, body: body, isAttachment: false };
      });
    }).catch(function (e) {
      // A CORS refusal is a TypeError here and nothing in the frame: keep it for the tests.
      window.__forgeErrors.push('fetchRemote ' + path + ': ' + e.message);
      throw e;
    });
}
function answer(name, payload) {
  if (name === 'getContext') return Promise.resolve(context);
  if (name === 'enableTheming') return Promise.resolve({ colorMode: theme });
  if (name === 'createHistory') return Promise.resolve({ pathname: entries[at] });
  if (name === 'fetchRemote') { window.__forgeCalls++; return fetchRemote(payload); }
  return Promise.reject(new Error('the fake host does not play ' + name));
}
window.addEventListener('message', function (e) {
  if (e.source !== frame.contentWindow) return;
  var m = e.data || {};
  if (m.type === 'forge.error') window.__forgeErrors.push(m.text);
  if (m.type === 'forge.violation') window.__forgeViolations.push(m.text);
  if (m.type === 'forge.history') {
    window.__forgeHistory.push(m.path);
    entries = entries.slice(0, at + 1).concat([m.path]);
    at = entries.length - 1;
  }
  if (m.type === 'forge.history.go') go(Number(m.delta) || 0);
  if (m.type !== 'forge.call') return;
  answer(m.name, m.payload).then(function (result) {
    frame.contentWindow.postMessage({ type: 'forge.answer', id: m.id, result: result }, cdn);
  }, function (error) {
    frame.contentWindow.postMessage({ type: 'forge.answer', id: m.id, error: String(error.message) }, cdn);
  });
});
document.getElementById('theme-switch').addEventListener('click', function (e) {
  theme = theme === 'dark' ? 'light' : 'dark';
  document.documentElement.setAttribute('data-color-mode', theme);
  e.target.textContent = 'Switch to ' + (theme === 'dark' ? 'light' : 'dark');
  frame.contentWindow.postMessage({ type: 'forge.theme', colorMode: theme }, cdn);
});
"#;
