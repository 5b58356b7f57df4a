//! `/all.js`, the fake host's stand-in for Atlassian's client library: the
//! frame's side of the `AP` bridge, talking to the host page over `postMessage`.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

use super::theme;

const ALL_JS: &str = r#"(function () {
  var pending = {}, next = 1;
  window.addEventListener('message', function (e) {
    if (e.source !== window.parent) return;
    var m = e.data || {};
    if (m.type === 'ap.token' && pending[m.id]) { pending[m.id](m.token); delete pending[m.id]; }
    if (m.type === 'ap.theme' && themed) applyProductTheme(m.colorMode);
  });
  var themed = false;
  function getToken(callback) {
    var id = next++;
    var promise = new Promise(function (resolve) { pending[id] = resolve; });
    window.parent.postMessage({ type: 'ap.getToken', id: id }, '*');
    if (callback) promise.then(callback);
    return promise;
  }
  function resize() {
    window.parent.postMessage({ type: 'ap.resize', height: document.documentElement.scrollHeight }, '*');
  }
  window.AP = {
    context: { getToken: getToken, getContext: function (cb) { if (cb) cb({}); return Promise.resolve({}); } },
    resize: resize,
    sizeToParent: resize,
    theming: {
      initializeTheming: function () { themed = true; window.parent.postMessage({ type: 'ap.theming' }, '*'); }
    }
  };
  window.addEventListener('load', resize);
  // The host page keeps every CSP violation of the frame, for tests to read.
  document.addEventListener('securitypolicyviolation', function (e) {
    window.parent.postMessage({ type: 'ap.violation', text: e.violatedDirective + ' ' + e.blockedURI }, '*');
  });
})();
"#;

pub(super) async fn all_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], format!("{}{ALL_JS}", theme::APPLY_THEME_JS)).into_response()
}
