//! The product's theme, as the fake host hands it to the app's page under
//! either bridge: `data-color-mode` and `data-theme` on `<html>`, and a few
//! of Atlassian's design tokens (`--ds-*`) for each mode, set on the page
//! once it asks (`AP.theming.initializeTheming()`, `view.theme.enable()`).

/// Defines `applyProductTheme(mode)` in the page (script text).
pub(crate) const APPLY_THEME_JS: &str = r#"
var PRODUCT_TOKENS = {
  light: { '--ds-surface': '#FFFFFF', '--ds-surface-sunken': '#F7F8F9', '--ds-text': '#172B4D',
           '--ds-text-subtle': '#44546F', '--ds-border': '#0B120E24', '--ds-link': '#0C66E4',
           '--ds-background-brand-bold': '#0C66E4', '--ds-text-selected': '#0C66E4', '--ds-text-inverse': '#FFFFFF' },
  dark: { '--ds-surface': '#1F1F21', '--ds-surface-sunken': '#18191A', '--ds-text': '#CECFD2',
          '--ds-text-subtle': '#A9ABAF', '--ds-border': '#E3E4F21F', '--ds-link': '#669DF1',
          '--ds-background-brand-bold': '#669DF1', '--ds-text-selected': '#669DF1', '--ds-text-inverse': '#1F1F21' }
};
function applyProductTheme(mode) {
  if (!PRODUCT_TOKENS[mode]) return;
  var root = document.documentElement;
  root.setAttribute('data-theme', 'dark:dark light:light');
  root.setAttribute('data-color-mode', mode);
  Object.keys(PRODUCT_TOKENS[mode]).forEach(function (k) { root.style.setProperty(k, PRODUCT_TOKENS[mode][k]); });
}
"#;
