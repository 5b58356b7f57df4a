//! The tags in the page's head that load and start the wasm bundle: the
//! markup of Leptos's `HydrationScripts`, with its strings written once per
//! process instead of formatted again on every page. A test renders both and
//! compares them, so a Leptos that changes its markup fails it.

use std::sync::Arc;

use leptos::{config::LeptosOptions, nonce::use_nonce, oco::Oco, prelude::*};

/// Leptos's start script (`leptos/src/hydration/hydration_script.js`).
const START_SCRIPT: &str = include_str!("bundle_start.js");

/// Where the bundle's JS and wasm are, and the script that starts them.
#[derive(Debug)]
pub struct BundleScripts {
    js_href: String,
    wasm_href: String,
    start: Arc<str>,
}

impl BundleScripts {
    /// The tags for the bundle `options` names. Only for options without
    /// Leptos's `hash_files` (the app puts the content hash in the bundle's
    /// name itself) and without wasm-split, the only ones the server builds.
    pub fn new(options: &LeptosOptions) -> Arc<Self> {
        debug_assert!(!options.hash_files, "BundleScripts writes the tags of an unhashed bundle name");
        let (pkg, js) = (&options.site_pkg_dir, options.output_name.to_string());
        // As Leptos: the wasm is `<name>_bg` unless cargo-leptos named it.
        let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_none() { format!("{js}_bg") } else { js.clone() };
        Arc::new(Self {
            js_href: format!("/{pkg}/{js}.js"),
            wasm_href: format!("/{pkg}/{wasm}.wasm"),
            start: format!("{START_SCRIPT}({:?}, {pkg:?}, {js:?}, {wasm:?}, false);", "").into(),
        })
    }
}

/// The bundle's preload links and start script, under the page's nonce.
#[component]
pub fn BundleTags(scripts: Arc<BundleScripts>) -> impl IntoView {
    let nonce = use_nonce();
    // Leptos leaves the fetch priority unset unless it defers hydration.
    let priority: Option<&str> = None;
    let wasm_crossorigin = nonce.as_ref().map(|n| Oco::Counted(n.as_inner().clone())).unwrap_or(Oco::Borrowed(""));
    view! {
        <link rel="modulepreload" href=scripts.js_href.clone() crossorigin=nonce.clone() fetchpriority=priority/>
        <link
            rel="preload"
            href=scripts.wasm_href.clone()
            r#as="fetch"
            r#type="application/wasm"
            crossorigin=wasm_crossorigin
            fetchpriority=priority
        />
        <script type="module" nonce=nonce>
            {scripts.start.clone()}
        </script>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use leptos::{nonce::Nonce, reactive::owner::Owner};

    use super::*;

    fn html(view: impl FnOnce() -> AnyView) -> String {
        Owner::new().with(|| {
            provide_context(Nonce::new());
            let nonce = use_nonce().unwrap();
            view().to_html().replace(nonce.as_inner().as_ref(), "NONCE")
        })
    }

    #[test]
    fn the_tags_are_byte_for_byte_leptos_hydration_scripts() {
        let options = LeptosOptions::builder().output_name("frontend.0123456789abcdef").site_pkg_dir("pkg").build();
        let scripts = BundleScripts::new(&options);
        let ours = html(|| view! { <BundleTags scripts/> }.into_any());
        let leptos = html(|| view! { <HydrationScripts options/> }.into_any());
        assert_eq!(ours, leptos);
        assert!(ours.contains("/pkg/frontend.0123456789abcdef_bg.wasm"), "{ours}");
    }
}
