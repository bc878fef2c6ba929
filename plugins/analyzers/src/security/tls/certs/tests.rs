//! Certificate readers: each tool's output in, dates and names out.

use super::super::super::testkit::{run, run_with};
use super::super::super::tool;
use super::*;

const S_CLIENT: &str = "CONNECTED(00000003)
---
Certificate chain
 0 s:CN = api.example.org
   i:C = US, O = Let's Encrypt, CN = E5
   a:PKEY: id-ecPublicKey, 256 (bit); sigalg: ecdsa-with-SHA384
   v:NotBefore: Jan 10 00:00:00 2025 GMT; NotAfter: Apr 10 23:59:59 2025 GMT
 1 s:C = US, O = Let's Encrypt, CN = E5
   i:C = US, O = Internet Security Research Group, CN = ISRG Root X1
   v:NotBefore: Mar 13 00:00:00 2024 GMT; NotAfter: Mar 12 23:59:59 2027 GMT
---
Server certificate
subject=CN = api.example.org
issuer=C = US, O = Let's Encrypt, CN = E5
---
Verify return code: 0 (ok)
";

#[test]
fn s_client_gives_the_leaf_not_the_intermediate() {
    let v = served(&run(
        tool::TLS_PROBE,
        "openssl s_client -connect api.example.org:443 -servername api.example.org",
        0,
        S_CLIENT,
        "",
    ))
    .expect("leaf");
    assert_eq!(
        v.not_after.as_ref().map(|n| n.1.as_str()),
        Some("Apr 10 23:59:59 2025 GMT")
    );
    assert_eq!(v.subject.as_deref(), Some("CN = api.example.org"));
    assert!(v.acme());
    assert!(v.covers("api.example.org"));
    assert!(!v.covers("example.org"));
}

#[test]
fn a_failed_handshake_says_why() {
    let r = run(
        tool::TLS_PROBE,
        "openssl s_client -connect x.example.org:443 -servername x.example.org",
        1,
        "",
        "40C7B6F1F07F0000:error:8000006F:system library:BIO_connect:Connection refused:../crypto/bio/bio_sock2.c:114:calling connect()\nconnect:errno=111\n",
    );
    assert!(served(&r).is_none());
    assert!(probe_error(&r).is_some_and(|e| e.contains("Connection refused")));
}

#[test]
fn x509_dates_and_text_output_read() {
    let r = run_with(
        tool::CERT_FILE,
        "openssl x509 -noout -subject -issuer -dates -in /etc/ssl/certs/api.pem",
        &[("cert", "/etc/ssl/certs/api.pem")],
        0,
        "subject=CN = api.example.org\nissuer=C = US, O = DigiCert Inc, CN = DigiCert TLS RSA SHA256 2020 CA1\nnotBefore=Feb  1 00:00:00 2025 GMT\nnotAfter=Mar  3 23:59:59 2026 GMT\n",
        "",
    );
    let v = file(&r).expect("cert");
    assert_eq!(v.path.as_deref(), Some("/etc/ssl/certs/api.pem"));
    assert!(!v.acme());
    assert_eq!(v.lines[0], "subject=CN = api.example.org");
    let text = run(
        tool::CERT_FILE,
        "openssl x509 -text",
        0,
        "        Validity\n            Not Before: Aug 28 09:14:08 2024 GMT\n            Not After : Nov 26 09:14:07 2024 GMT\n        Subject: CN = shop.example.com\n            X509v3 Subject Alternative Name: \n                DNS:shop.example.com, DNS:www.shop.example.com\n",
        "",
    );
    let v = file(&text).expect("cert");
    assert!(v.covers("www.shop.example.com"));
    assert!(v.not_after.is_some());
}

#[test]
fn certbot_lists_every_certificate_with_domains_and_paths() {
    let out = "Found the following certs:\n  Certificate Name: blog.example.net\n    Domains: blog.example.net\n    Expiry Date: 2025-05-01 10:00:00+00:00 (VALID: 40 days)\n    Certificate Path: /etc/letsencrypt/live/blog.example.net/fullchain.pem\n  Certificate Name: wild\n    Domains: *.example.net example.net\n    Expiry Date: 2025-03-20 10:00:00+00:00 (INVALID: EXPIRED)\n    Certificate Path: /etc/letsencrypt/live/wild/fullchain.pem\n";
    let certs = certbot(&run(tool::CERTBOT, "certbot certificates", 0, out, ""));
    assert_eq!(certs.len(), 2);
    assert_eq!(
        certs[0].path.as_deref(),
        Some("/etc/letsencrypt/live/blog.example.net/fullchain.pem")
    );
    assert!(certs[1].covers("shop.example.net"));
    assert!(certs[1].covers("example.net"));
    assert!(!certs[1].covers("a.b.example.net"));
}

#[test]
fn checkend_reads_its_window_and_verdict() {
    let r = run_with(
        tool::CHECKEND,
        "openssl x509 -noout -checkend 2592000 -in /x",
        &[("seconds", "2592000")],
        1,
        "Certificate will expire\n",
        "",
    );
    assert_eq!(
        checkend(&r),
        Some((true, 2_592_000, "Certificate will expire".to_owned()))
    );
    let r = run_with(
        tool::CHECKEND,
        "openssl x509 -noout -checkend 2592000 -in /x",
        &[("seconds", "2592000")],
        0,
        "Certificate will not expire\n",
        "",
    );
    assert_eq!(checkend(&r).map(|c| c.0), Some(false));
}
