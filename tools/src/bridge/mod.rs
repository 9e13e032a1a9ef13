//! The dev-only stand-in for what AWS runs around the real-time functions
//! (PRODUCT.md section 6): API Gateway's WebSocket API with its Management
//! API on one port, and the event source mapping that feeds the table's
//! stream to the notifier. The functions themselves run in
//! `cargo lambda watch` and are invoked by name.

pub mod batches;
pub mod connections;
pub mod filter;
pub mod invoke;
pub mod management;
pub mod mapping;
pub mod records;
pub mod shards;
pub mod sockets;
pub mod stream;
pub mod websocket_events;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use connections::Connections;
use invoke::Invoker;
use sockets::Sockets;

/// Serves WebSocket upgrades and the Management API on `listener` until
/// the process ends.
pub async fn serve_sockets(listener: TcpListener, invoker: Invoker) {
    let sockets = Arc::new(Sockets { connections: Connections::default(), invoker });
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("bridge: accept: {error}");
                continue;
            }
        };
        let sockets = sockets.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let sockets = sockets.clone();
                async move {
                    if sockets::is_upgrade(&request) {
                        return Ok::<_, hyper::Error>(sockets::upgrade(sockets, request, remote).await);
                    }
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await?.to_bytes();
                    Ok(management::respond(&sockets.connections, &parts.method, parts.uri.path(), body))
                }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades();
            // A client that goes away mid-request ends here.
            let _ = connection.await;
        });
    }
}
