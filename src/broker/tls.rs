//! TLS for a listener, with rustls and its `ring` provider: the server certificate
//! and key from mosquitto's `certfile` and `keyfile`, client certificates checked
//! against `cafile`/`capath` (required with `require_certificate true`), and the
//! versions `tls_version` allows. Every file is read when the broker starts; a
//! missing or bad one is an error naming the file and the cause.

use super::config::{CertIdentity, ListenerTls};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Why a listener's TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds nothing usable.
    #[error("{file}: {message}")]
    File {
        /// The file (or directory).
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// The settings do not go together.
    #[error("{0}")]
    Settings(String),
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        file: path.display().to_string(),
        message: message.to_string(),
    }
}

/// The acceptor for a listener with TLS settings.
pub fn acceptor(tls: &ListenerTls) -> Result<TlsAcceptor, TlsError> {
    let (Some(certfile), Some(keyfile)) = (&tls.certfile, &tls.keyfile) else {
        return Err(TlsError::Settings(
            "a TLS listener needs both certfile and keyfile".into(),
        ));
    };
    let chain = certificates(certfile)?;
    let key = PrivateKeyDer::from_pem_file(keyfile)
        .map_err(|e| file_error(keyfile, format!("no usable private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match tls.tls_version.as_deref() {
        Some("tlsv1.2") => &[&rustls::version::TLS12],
        Some("tlsv1.3") => &[&rustls::version::TLS13],
        _ => rustls::ALL_VERSIONS,
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::Settings(format!("TLS versions: {e}")))?;
    let builder = match client_roots(tls)? {
        Some(roots) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let verifier = if tls.require_certificate {
                verifier.build()
            } else {
                verifier.allow_unauthenticated().build()
            }
            .map_err(|e| TlsError::Settings(format!("client certificates: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None if tls.require_certificate => {
            return Err(TlsError::Settings(
                "require_certificate true needs cafile or capath".into(),
            ));
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        file_error(
            keyfile,
            format!("does not go with {}: {e}", certfile.display()),
        )
    })?;
    // MQTT over TLS announces itself as "mqtt" when the client asks (ALPN).
    config.alpn_protocols = vec![b"mqtt".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The certificates of a PEM file, at least one.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(file_error(path, "no PEM certificate in it"));
    }
    Ok(certs)
}

/// The roots client certificates must chain to, from `cafile` and `capath`.
fn client_roots(tls: &ListenerTls) -> Result<Option<RootCertStore>, TlsError> {
    if tls.cafile.is_none() && tls.capath.is_none() {
        return Ok(None);
    }
    let mut roots = RootCertStore::empty();
    if let Some(file) = &tls.cafile {
        for cert in certificates(file)? {
            roots
                .add(cert)
                .map_err(|e| file_error(file, format!("not a CA certificate: {e}")))?;
        }
    }
    if let Some(dir) = &tls.capath {
        let entries = std::fs::read_dir(dir).map_err(|e| file_error(dir, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            // Like mosquitto's capath (OpenSSL's hashed directory): PEM files only.
            if path.is_file()
                && let Ok(certs) = certificates(&path)
            {
                for cert in certs {
                    let _ = roots.add(cert);
                }
            }
        }
    }
    if roots.is_empty() {
        return Err(TlsError::Settings(
            "cafile/capath hold no CA certificate".into(),
        ));
    }
    Ok(Some(roots))
}

/// The user name a client certificate gives (`use_identity_as_username`: its
/// Common Name; `use_subject_as_username`: its subject as an RFC 2253 string, as
/// mosquitto writes it with OpenSSL: `CN=alice,O=lab,C=DE`). `None` when the
/// certificate cannot be read or has no such name.
pub fn identity(cert: &CertificateDer<'_>, which: CertIdentity) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let subject = cert.subject();
    match which {
        CertIdentity::Connect => None,
        CertIdentity::CommonName => subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string),
        CertIdentity::Subject => {
            let registry = x509_parser::objects::oid_registry();
            // RFC 2253 lists the name's parts from the last to the first.
            let rdns: Vec<String> = subject
                .iter_rdn()
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .map(|rdn| {
                    let parts: Vec<String> = rdn
                        .iter()
                        .map(|attr| {
                            let oid = attr.attr_type();
                            let name = x509_parser::objects::oid2abbrev(oid, registry)
                                .map(str::to_string)
                                .unwrap_or_else(|_| oid.to_id_string());
                            match attr.as_str() {
                                Ok(v) => format!("{name}={}", rfc2253_escape(v)),
                                Err(_) => format!("{name}=#{}", hex(attr.as_slice())),
                            }
                        })
                        .collect();
                    parts.join("+")
                })
                .collect();
            (!rdns.is_empty()).then(|| rdns.join(","))
        }
    }
}

/// RFC 2253 section 2.4: the characters of a value that are escaped.
fn rfc2253_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2253_escapes_specials_and_edge_spaces() {
        assert_eq!(rfc2253_escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(rfc2253_escape(" x "), "\\ x\\ ");
        assert_eq!(rfc2253_escape("#1"), "\\#1");
        assert_eq!(rfc2253_escape("plain"), "plain");
    }

    #[test]
    fn identity_reads_common_name_and_subject() {
        let mut params = rcgen::CertificateParams::new(vec!["client".into()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CountryName, "DE");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "lab, north");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "alice");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let der = cert.der();
        assert_eq!(
            identity(der, CertIdentity::CommonName).as_deref(),
            Some("alice")
        );
        assert_eq!(
            identity(der, CertIdentity::Subject).as_deref(),
            Some("CN=alice,O=lab\\, north,C=DE")
        );
        assert_eq!(identity(der, CertIdentity::Connect), None);
    }
}
