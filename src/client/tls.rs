//! TLS for `mqtts://` and `wss://`: a rustls client configuration built on an explicit
//! `ring` provider (never the process default), and rustls errors translated into
//! causes a user can act on (unknown CA, hostname mismatch, certificate expired...).

use super::Error;
use super::options::{TlsOptions, TlsVersion};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::path::Path;
use std::sync::Arc;

/// Build the client configuration for `opts`.
pub fn client_config(opts: &TlsOptions) -> Result<ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&'static rustls::SupportedProtocolVersion] = match opts.version {
        None => rustls::DEFAULT_VERSIONS,
        Some(TlsVersion::Tls13) => &[&rustls::version::TLS13],
        Some(TlsVersion::Tls12) => &[&rustls::version::TLS12],
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| Error::Tls(e.to_string()))?;
    let builder = {
        let mut roots = RootCertStore::empty();
        if let Some(path) = &opts.ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Error::Tls(format!("cannot read CA file {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(Error::Tls(format!(
                    "no certificate in CA file {}",
                    path.display()
                )));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    Error::Tls(format!("bad certificate in {}: {e}", path.display()))
                })?;
            }
        }
        if let Some(dir) = &opts.ca_path {
            add_ca_dir(&mut roots, dir)?;
        }
        if opts.os_certs {
            add_os_certs(&mut roots)?;
        }
        if opts.ca_file.is_none() && opts.ca_path.is_none() && !opts.os_certs {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if opts.insecure {
            // --insecure (as mosquitto): the chain is still verified against the
            // trusted CAs; only the host name check is skipped.
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| Error::Tls(format!("certificate verifier: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyServerName { inner }))
        } else {
            builder.with_root_certificates(roots)
        }
    };
    let mut config = match (&opts.cert_file, &opts.key_file) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    Error::Tls(format!("cannot read certificate {}: {e}", cert.display()))
                })?;
            let key_der = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| Error::Tls(format!("cannot read key {}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| Error::Tls(format!("client certificate: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(Error::Tls(
                "a client certificate needs both --cert and --key".to_string(),
            ));
        }
    };
    config.alpn_protocols = opts.alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    Ok(config)
}

/// `--capath`: trust every PEM certificate in every file of `dir` (not recursive).
/// Files without a certificate, or that cannot be read as PEM, are skipped with a
/// warning on stderr; a directory without any certificate is an error.
fn add_ca_dir(roots: &mut RootCertStore, dir: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Tls(format!("cannot read CA directory {}: {e}", dir.display())))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut added = 0usize;
    for path in paths {
        let certs =
            CertificateDer::pem_file_iter(&path).and_then(|it| it.collect::<Result<Vec<_>, _>>());
        match certs {
            Ok(certs) if !certs.is_empty() => {
                for cert in certs {
                    match roots.add(cert) {
                        Ok(()) => added += 1,
                        Err(e) => eprintln!(
                            "Warning: --capath: skipping a bad certificate in {}: {e}",
                            path.display()
                        ),
                    }
                }
            }
            Ok(_) => eprintln!(
                "Warning: --capath: no PEM certificate in {}, skipped",
                path.display()
            ),
            Err(e) => eprintln!(
                "Warning: --capath: {} is not a PEM file ({e}), skipped",
                path.display()
            ),
        }
    }
    if added == 0 {
        return Err(Error::Tls(format!(
            "no PEM certificate in CA directory {}",
            dir.display()
        )));
    }
    Ok(())
}

/// The PEM bundles where Unix systems keep their trusted CAs (Debian/Ubuntu/Alpine,
/// Fedora/RHEL, openSUSE, macOS/BSD).
const OS_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
];

/// `--tls-use-os-certs`: trust the system's CA bundle (`SSL_CERT_FILE` first).
fn add_os_certs(roots: &mut RootCertStore) -> Result<(), Error> {
    if cfg!(windows) {
        return Err(Error::Tls(
            "--tls-use-os-certs is not supported yet on Windows: use --cafile".to_string(),
        ));
    }
    let env = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
    let candidates = env
        .into_iter()
        .chain(OS_BUNDLES.iter().map(std::path::PathBuf::from));
    for path in candidates {
        if !path.is_file() {
            continue;
        }
        let certs = CertificateDer::pem_file_iter(&path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| Error::Tls(format!("cannot read {}: {e}", path.display())))?;
        let (added, _ignored) = roots.add_parsable_certificates(certs);
        if added > 0 {
            return Ok(());
        }
    }
    Err(Error::Tls(
        "no system CA bundle found (set SSL_CERT_FILE or use --cafile)".to_string(),
    ))
}

/// The name the server's certificate is checked against.
pub fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.to_string())
        .map_err(|_| Error::Tls(format!("'{host}' is not a valid TLS server name")))
}

/// Whether an I/O error carries a rustls error.
pub fn is_tls_error(e: &std::io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

/// Translate a failed handshake into a cause: the rustls error travels inside the
/// `io::Error` that tokio-rustls returns.
pub fn handshake_error(e: std::io::Error, server: &str) -> Error {
    let cause = match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            CertificateError::UnknownIssuer => {
                "unknown CA: the server's certificate is not signed by a trusted CA (see --cafile)"
                    .to_string()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "hostname mismatch: the server's certificate is not valid for this host (see --insecure)"
                    .to_string()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "certificate expired".to_string()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate not valid yet".to_string()
            }
            CertificateError::Revoked => "certificate revoked".to_string(),
            CertificateError::BadSignature => "bad certificate signature".to_string(),
            other => format!("invalid certificate: {other:?}"),
        },
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("handshake refused by the server ({alert:?})")
        }
        Some(other) => other.to_string(),
        None => match e.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                "handshake refused by the server (connection closed; is it a TLS port?)"
                    .to_string()
            }
            _ => e.to_string(),
        },
    };
    Error::Tls(format!("{server}: {cause}"))
}

/// `--insecure`: verify the server's certificate chain as usual, but accept it for
/// any host name.
#[derive(Debug)]
struct AnyServerName {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
}

impl ServerCertVerifier for AnyServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The chain (and revocation) is checked before the name: a name error means
        // everything else passed.
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
