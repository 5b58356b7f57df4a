//! A TCP proxy in front of the PostgreSQL test cluster that can play an
//! outage: `down` cuts every open connection and refuses new ones, as a
//! database restart or failover does to the app; `up` ends it. `switch`
//! sends new connections elsewhere and leaves open ones where they are, as a
//! DNS name or a virtual IP moved to a new primary does.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::{
    net::{TcpListener, TcpStream},
    task::AbortHandle,
};

/// The test cluster's address, from `TEST_POSTGRES_URL`.
pub fn cluster_address() -> SocketAddr {
    let admin = std::env::var("TEST_POSTGRES_URL").expect("TEST_POSTGRES_URL: run the tests with `cargo xtask test`");
    let authority = admin.split('@').nth(1).and_then(|rest| rest.split('/').next()).expect("host:port in the URL");
    authority.parse().expect("a loopback address and port")
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>, // demo
    down: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl FaultProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (down, open) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
        let target = Arc::new(Mutex::new(target));
        let (is_down, conns, to) = (down.clone(), open.clone(), target.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_down.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = *to.lock().unwrap();
                let Ok(mut outbound) = TcpStream::connect(upstream).await else { continue };
                // Checked again under the lock `down` takes: no connection slips past an outage.
                let mut open = conns.lock().unwrap();
                if is_down.load(Ordering::SeqCst) {
                    continue;
                }
                let pipe = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                open.push(pipe.abort_handle());
            }
        });
        // demo:begin
        Self { addr, target, down, open, accept: accept.abort_handle() }
        // demo:end
        // no-demo: Self { addr, down, open, accept: accept.abort_handle() }
    }

    /// The database "goes away": open connections are cut, new ones refused.
    pub fn down(&self) {
        let mut open = self.open.lock().unwrap();
        self.down.store(true, Ordering::SeqCst);
        for pipe in open.drain(..) {
            pipe.abort();
        }
    }

    // demo:begin
    /// New connections go to `target`; open ones stay where they are.
    pub fn switch(&self, target: SocketAddr) {
        *self.target.lock().unwrap() = target;
    }
    // demo:end

    pub fn up(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.down();
        self.accept.abort();
    }
}
