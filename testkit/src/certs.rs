//! Certificates for the TLS tests and benches: a CA and certificates it
//! signs, as PEM files in a temporary directory, made with rcgen (so that
//! nothing outside cargo, no `openssl` command, is needed).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// The files, in a directory removed when this is dropped:
///
/// * `ca.crt`: the CA;
/// * `server.crt` / `server.key` and `server2.crt` / `server2.key`: two
///   server certificates (for a reload) valid for `localhost` and
///   `127.0.0.1`;
/// * `client.crt` / `client.key`: a client certificate.
///
/// Each `Certs` has a CA of its own: another `Certs` stands for "a
/// certificate from another CA".
pub struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    /// Makes a CA and the certificates it signs.
    ///
    /// # Panics
    ///
    /// When a key cannot be made or a file cannot be written.
    pub fn new() -> Certs {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ca_key = KeyPair::generate().expect("a key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "soquete test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
        let write = |name: &str, text: String| {
            std::fs::write(dir.path().join(name), text).expect("writing a certificate");
        };
        write("ca.crt", ca_cert.pem());
        for (name, usage) in [
            ("server", ExtendedKeyUsagePurpose::ServerAuth),
            ("server2", ExtendedKeyUsagePurpose::ServerAuth),
            ("client", ExtendedKeyUsagePurpose::ClientAuth),
        ] {
            let key = KeyPair::generate().expect("a key");
            let mut p =
                CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                    .expect("certificate parameters");
            p.distinguished_name
                .push(DnType::CommonName, format!("soquete {name}"));
            p.extended_key_usages = vec![usage];
            let cert = p
                .signed_by(&key, &ca_cert, &ca_key)
                .expect("a signed certificate");
            write(&format!("{name}.crt"), cert.pem());
            write(&format!("{name}.key"), key.serialize_pem());
        }
        Certs { dir }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The path of file `name` (`ca.crt`, `server.key`...).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// [`Certs::path`] as a command-line argument.
    pub fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// A server's options for a TLS listener on `tls_port` with these
    /// files (`server.crt`, `server.key`, `ca.crt`) and clients
    /// authenticated as `auth` says (`tls-auth-clients`: yes, no,
    /// optional), the same for redis-server and soquete-server.
    pub fn server_args(&self, tls_port: u16, auth: &str) -> Vec<String> {
        vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            self.arg("server.crt"),
            "--tls-key-file".into(),
            self.arg("server.key"),
            "--tls-ca-cert-file".into(),
            self.arg("ca.crt"),
            "--tls-auth-clients".into(),
            auth.into(),
        ]
    }
}

impl Default for Certs {
    fn default() -> Certs {
        Certs::new()
    }
}
