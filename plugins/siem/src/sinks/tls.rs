//! The rustls client configuration shared by `tls://` syslog and `https://` sinks: the
//! ring provider, TLS 1.2 and 1.3, and the CAs of `ca_file` or else the system's.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::SinkError;

/// A client configuration trusting `ca_file`'s certificates, or the system's without it
/// (an error when there are none and `need_roots`); `alpn` protocols are offered as given
/// (`http/1.1` for HTTPS, none for syslog).
pub(crate) fn client_config(
    ca_file: Option<&Path>,
    alpn: &[&[u8]],
    need_roots: bool,
) -> Result<rustls::ClientConfig, SinkError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SinkError::Tls(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let bad = |e: String| {
                SinkError::Tls(format!(
                    "ca_file {}: {e}; point it at a PEM file of CA certificates",
                    path.display()
                ))
            };
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
                let cert = cert.map_err(|e| bad(e.to_string()))?;
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(bad("no certificate in the file".into()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() && need_roots {
                return Err(SinkError::Tls(
                    "no system CA certificates found: set ca_file to the SIEM's CA (PEM)".into(),
                ));
            }
        }
    }
    let mut config = builder.with_root_certificates(roots).with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}
