//! TLS with rustls (ring provider): the client configuration a
//! [`TlsConfig`] describes, and what TLS errors mean.

use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::TlsConfig;
use crate::error::{Error, Result};

/// rustls's ring provider, as soquete-server uses it (rustls 0.23.48
/// deprecates it for lacking post-quantum key exchange; ring keeps the
/// build free of aws-lc's C toolchain needs).
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client configuration for `tls`: trusted roots, client
/// certificate, verification on or (when asked) off.
pub(crate) fn client_config(tls: &TlsConfig) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let builder = if tls.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        match &tls.ca_file {
            Some(path) => {
                let certs = read_certs(path)?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(Error::Tls(format!(
                        "no usable CA certificate in {}",
                        path.display()
                    )));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                Error::Tls(format!("cannot read private key {}: {e}", key.display()))
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::Tls(format!("client certificate refused: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(Error::Tls(
                "a client certificate needs both cert_file and key_file".into(),
            ))
        }
    };
    Ok(Arc::new(config))
}

fn read_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| Error::Tls(format!("cannot read certificates {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::Tls(format!("no certificate in {}", path.display())));
    }
    Ok(certs)
}

/// The name the server's certificate must carry: the host of the address,
/// a DNS name or an IP address.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(host.to_string())
        .map_err(|_| Error::Tls(format!("{host:?} is not a valid TLS server name")))
}

/// The error for a failed TLS handshake or a TLS failure on an open
/// connection (an alert from the server, a bad record): [`Error::Tls`] when
/// rustls reported it, [`Error::Io`] for plain socket errors.
pub(crate) fn io_error(e: io::Error) -> Error {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(describe);
    match tls {
        Some(m) => Error::Tls(m),
        None => Error::Io(e),
    }
}

/// rustls's error, with what it usually means in this client's terms.
fn describe(e: &rustls::Error) -> String {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(c) => {
            format!("the server's certificate was not accepted: {c:?} (check the CA file and the host name)")
        }
        rustls::Error::AlertReceived(A::CertificateRequired) => {
            "the server requires a client certificate (cert_file, key_file)".into()
        }
        rustls::Error::AlertReceived(
            a @ (A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::DecryptError),
        ) => {
            format!("the server refused the client certificate (alert {a:?})")
        }
        other => other.to_string(),
    }
}

/// The `insecure` verifier: any certificate is accepted; the handshake's
/// signatures are still checked, so the key exchange is with the holder
/// of the key the certificate names.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses_and_host_names_are_server_names() {
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(server_name("::1"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(
            server_name("cache.example.com"),
            Ok(ServerName::DnsName(_))
        ));
        assert!(matches!(server_name("bad host"), Err(Error::Tls(_))));
    }

    #[test]
    fn missing_files_are_tls_errors_naming_the_file() {
        let t = TlsConfig {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsConfig::default()
        };
        let e = client_config(&t).unwrap_err();
        assert!(
            matches!(&e, Error::Tls(m) if m.contains("/nonexistent/ca.pem")),
            "{e}"
        );
    }

    #[test]
    fn builtin_roots_and_insecure_build() {
        assert!(client_config(&TlsConfig::default()).is_ok());
        let t = TlsConfig {
            insecure: true,
            ..TlsConfig::default()
        };
        assert!(client_config(&t).is_ok());
    }
}
