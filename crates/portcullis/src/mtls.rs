//! The optional mutual-TLS listener (issue 4 item 7): the same application over TLS, asking
//! each browser or device for a client certificate (smart cards, PIV, device certificates).
//!
//! The handshake accepts any certificate whose holder proves its private key; the chain is then
//! checked against the configured CAs and CRL files (webpki, through rustls), and the finding —
//! verified, unknown CA, expired, revoked, … — travels with each request of the connection as a
//! [`PresentedCertificate`], so that a refused certificate gets a clear flow error instead of a
//! broken handshake. Without a certificate the connection serves as usual.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use portcullis_core::service::certificates::{CertificateProblem, PresentedCertificate};
use portcullis_web::AppState;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The files the listener is made of.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MtlsConfig {
    pub listen: SocketAddr,
    /// The server's certificate chain (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
    /// The CAs whose client certificates are accepted (PEM bundle).
    pub client_ca: PathBuf,
    /// Certificate revocation lists (PEM or DER), checked for end-entity certificates.
    pub crls: Vec<PathBuf>,
    /// The URL the listener is reached at [default: `https://{public host}:{port}`].
    pub public_url: Option<String>,
}

/// A TLS acceptor and the chain check of client certificates.
#[derive(Clone)]
pub struct Mtls {
    acceptor: TlsAcceptor,
    chains: Arc<dyn ClientCertVerifier>,
}

/// Asks for a client certificate and checks only that its holder has the private key; the
/// chain is judged after the handshake (see the module documentation).
#[derive(Debug)]
struct AnyClientCertificate {
    chains: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.chains.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.chains.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.chains.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chains.supported_verify_schemes()
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The CRLs of one file: PEM blocks, or one DER list.
fn crls_of(path: &Path) -> anyhow::Result<Vec<CertificateRevocationListDer<'static>>> {
    let bytes = read(path)?;
    if bytes.starts_with(b"-----") {
        CertificateRevocationListDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("invalid CRL file {}", path.display()))
    } else {
        Ok(vec![CertificateRevocationListDer::from(bytes)])
    }
}

impl Mtls {
    /// Reads the files and builds the acceptor.
    pub fn load(config: &MtlsConfig) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&read(&config.client_ca)?) {
            let cert = cert.with_context(|| format!("invalid CA file {}", config.client_ca.display()))?;
            roots.add(cert).with_context(|| format!("invalid CA certificate in {}", config.client_ca.display()))?;
        }
        if roots.is_empty() {
            anyhow::bail!("the CA file {} holds no certificate", config.client_ca.display());
        }
        let mut crls = Vec::new();
        for path in &config.crls {
            crls.extend(crls_of(path)?);
        }
        let chains = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .with_crls(crls)
            .only_check_end_entity_revocation()
            .build()
            .context("cannot use the client CAs and CRLs")?;
        let certs = CertificateDer::pem_slice_iter(&read(&config.cert)?)
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("invalid certificate file {}", config.cert.display()))?;
        let key = PrivateKeyDer::from_pem_slice(&read(&config.key)?)
            .with_context(|| format!("invalid key file {}", config.key.display()))?;
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(AnyClientCertificate { chains: chains.clone() }))
            .with_single_cert(certs, key)
            .context("the certificate and key do not match")?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { acceptor: TlsAcceptor::from(Arc::new(server)), chains })
    }

    /// What the chain check finds about a connection's certificates (`None`: none presented).
    fn judge(&self, chain: Option<&[CertificateDer<'static>]>) -> Option<PresentedCertificate> {
        let (end_entity, intermediates) = chain?.split_first()?;
        let problem = match self.chains.verify_client_cert(end_entity, intermediates, UnixTime::now()) {
            Ok(_) => None,
            Err(rustls::Error::InvalidCertificate(error)) => Some(match error {
                CertificateError::UnknownIssuer => CertificateProblem::UnknownCa,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertificateProblem::Expired,
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    CertificateProblem::NotYetValid
                }
                CertificateError::Revoked => CertificateProblem::Revoked,
                _ => CertificateProblem::Invalid,
            }),
            Err(_) => Some(CertificateProblem::Invalid),
        };
        Some(PresentedCertificate { der: end_entity.to_vec(), problem })
    }
}

/// Where a connection comes from, and the certificate it presented.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    pub address: SocketAddr,
    pub certificate: Option<PresentedCertificate>,
}

/// Accepts TCP connections and completes their handshakes off the accept loop (a slow client
/// holds up no one).
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, TlsPeer)>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, mtls: Mtls) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (send, ready) = mpsc::channel(64);
        let task = tokio::spawn(async move {
            loop {
                let (stream, address) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "mutual-TLS accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (mtls, send) = (mtls.clone(), send.clone());
                tokio::spawn(async move {
                    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, mtls.acceptor.accept(stream)).await
                    else {
                        tracing::debug!(%address, "a TLS handshake failed");
                        return;
                    };
                    let certificate = mtls.judge(tls.get_ref().1.peer_certificates());
                    let _ = send.send((tls, TlsPeer { address, certificate })).await;
                });
            }
        });
        Ok(Self { local, ready, task })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = TlsPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept task ended (it never does on its own): serve nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(TlsPeer { address: self.local, certificate: None })
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>> for TlsPeer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Hands each request its connection's address (as the plain listener does) and certificate.
async fn peer_of(ConnectInfo(peer): ConnectInfo<TlsPeer>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(ConnectInfo(peer.address));
    if let Some(certificate) = peer.certificate {
        request.extensions_mut().insert(certificate);
    }
    next.run(request).await
}

/// The listener's public URL: as configured, or the public URL's host at the listener's port.
pub fn public_url(config: &MtlsConfig, public_url: &str, port: u16) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = url::Url::parse(public_url).ok().and_then(|u| u.host_str().map(str::to_owned));
    format!("https://{}:{port}", host.unwrap_or_else(|| "localhost".to_owned()))
}

/// Serves the application on `listener` over mutual TLS until `shutdown` resolves.
pub async fn serve_mtls(
    listener: TcpListener,
    mtls: Mtls,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = portcullis_web::app(state).layer(axum::middleware::from_fn(peer_of));
    axum::serve(TlsListener::new(listener, mtls)?, app.into_make_service_with_connect_info::<TlsPeer>())
        .with_graceful_shutdown(shutdown)
        .await
        .context("mutual-TLS server error")
}
