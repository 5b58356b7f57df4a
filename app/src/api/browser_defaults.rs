//! What the app's two server-function clients take unchanged from server_fn's
//! browser client: websockets and spawning. They differ only in how a request
//! is sent (`client`, `session`).

/// `open_websocket` and `spawn` as the browser client has them (the app's
/// clients only change how requests are sent).
macro_rules! browser_client_rest {
    ($e:ty, $is:ty, $os:ty) => {
        #[allow(clippy::type_complexity)]
        fn open_websocket(
            path: &str,
        ) -> impl Future<
            Output = Result<
                (
                    impl futures::Stream<Item = Result<bytes::Bytes, bytes::Bytes>> + Send + 'static,
                    impl futures::Sink<bytes::Bytes> + Send + 'static,
                ),
                $e,
            >,
        > + Send {
            <leptos::server_fn::client::browser::BrowserClient as Client<$e, $is, $os>>::open_websocket(path)
        }

        fn spawn(future: impl Future<Output = ()> + Send + 'static) {
            <leptos::server_fn::client::browser::BrowserClient as Client<$e, $is, $os>>::spawn(future)
        }
    };
}
pub(crate) use browser_client_rest;
