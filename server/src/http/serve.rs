//! The accept loop. `axum::serve` installs no hyper timer, so hyper's header
//! read timeout would be silently inert (threat R-02, Slowloris); this loop
//! drives hyper's HTTP/1.1 connections itself with a Tokio timer, caps open
//! connections, in all and per client network, with a reserve a flood cannot
//! take from Atlassian (`connection_caps`; those over a cap get a quick 503),
//! cuts off clients that stop reading their answers, optionally terminates
//! TLS, and drains on shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::ConnectInfo};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Semaphore,
};
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;
use tower_http::add_extension::AddExtension;

use super::connection_caps::{ConnectionCaps, Limits};
use crate::{client_address::TrustedProxies, config::HttpLimits, proven_networks::ProvenNetworks};

/// Largest request head (request line plus headers) hyper buffers.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);
/// Connections over the cap answered at once; any more are closed unanswered.
const MAX_REFUSALS: usize = 64;
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);
/// The answer over the connection cap, written before the request is read
/// (so it carries no security headers: it has no body to protect).
const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    tls: Option<TlsAcceptor>,
    trusted: TrustedProxies,
    proven: Arc<ProvenNetworks>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).max_buf_size(MAX_HEAD_BYTES);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let numbers = Limits {
        total: limits.max_connections,
        reserved: limits.reserved_connections,
        per_network: limits.max_connections_per_network,
    };
    let caps = ConnectionCaps::new(numbers, limits.atlassian_egress.clone(), trusted, proven);
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = caps.take(peer.ip()) else {
            // A TLS client could not read a plain 503: it is closed at once.
            if tls.is_none() {
                refuse_busy(stream, &refusals);
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let stream = with_write_timeout(stream, limits.write_timeout);
        let service = per_connection_service(router.clone(), peer);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_one(&builder, watcher, stream, service).await,
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => serve_one(&builder, watcher, stream, service).await,
                    _ => tracing::debug!(%peer, "TLS handshake failed or timed out"),
                },
            }
            drop(slot);
        });
    }

    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the drain timeout");
    }
    Ok(())
}

/// Over the cap: a 503 the client can read, then the connection closes. A
/// flood beyond [`MAX_REFUSALS`] at once gets its connections closed unanswered.
fn refuse_busy(mut stream: TcpStream, refusals: &Arc<Semaphore>) {
    let Ok(slot) = refusals.clone().try_acquire_owned() else { return };
    tokio::spawn(async move {
        let answer = async {
            stream.write_all(BUSY).await?;
            stream.shutdown().await?;
            // Read what the client sent, so closing does not reset the
            // connection before the client has read the answer.
            let mut sink = [0u8; 4096];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        };
        let _ = tokio::time::timeout(REFUSAL_TIMEOUT, answer).await;
        drop(slot);
    });
}

/// A client that stops reading its answer fails the write after `timeout`,
/// which ends the connection and frees its place under the cap.
fn with_write_timeout(stream: TcpStream, timeout: Duration) -> std::pin::Pin<Box<TimeoutStream<TcpStream>>> {
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(timeout));
    Box::pin(stream)
}

type ConnService = TowerToHyperService<AddExtension<Router, ConnectInfo<SocketAddr>>>;

/// The router, with the peer address available to handlers as `ConnectInfo`.
fn per_connection_service(router: Router, peer: SocketAddr) -> ConnService {
    TowerToHyperService::new(AddExtension::new(router, ConnectInfo(peer)))
}

async fn serve_one<S>(
    builder: &http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
    io: S,
    service: ConnService,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = builder.serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Loads the certificate chain and key for in-process TLS (TLS 1.2 and 1.3 only).
pub(crate) fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> crate::error::Result<TlsAcceptor> {
    use crate::error::Error;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::Config(format!("TLS_CERT_FILE {}: {e}", cert.display())))?;
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| Error::Config(format!("TLS_KEY_FILE {}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Config(format!("TLS certificate/key: {e}")))?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
