//! A real rsyslogd (the Debian package) started by a test: its own config, pid file and
//! work dir in a temp dir, imudp and imtcp (optionally TLS through the ossl or gtls
//! driver) on loopback ports the test picked, and every message received written to a
//! file with a template that keeps the raw message (`%rawmsg%`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::harness::{Got, free_tcp_port, free_udp_port, parse_record};

static INSTALL: Mutex<()> = Mutex::new(());

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

fn rsyslogd_path() -> Option<PathBuf> {
    find(&[
        "/usr/sbin/rsyslogd",
        "/sbin/rsyslogd",
        "/usr/local/sbin/rsyslogd",
    ])
}

/// The TLS network stream driver rsyslog has (`ossl` or `gtls`), if any.
pub fn tls_driver() -> Option<&'static str> {
    let dirs = [
        "/usr/lib/x86_64-linux-gnu/rsyslog",
        "/usr/lib/aarch64-linux-gnu/rsyslog",
        "/usr/lib/rsyslog",
        "/usr/lib64/rsyslog",
    ];
    for (driver, file) in [("ossl", "lmnsd_ossl.so"), ("gtls", "lmnsd_gtls.so")] {
        if dirs.iter().any(|d| Path::new(d).join(file).exists()) {
            return Some(driver);
        }
    }
    None
}

fn apt_install(packages: &[&str]) -> bool {
    let run = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut install = vec!["install", "-y", "-q"];
    install.extend_from_slice(packages);
    run(&install) || (run(&["update", "-q"]) && run(&install))
}

/// rsyslogd, installed with apt if missing (the tests run as root in CI), else a clear
/// failure. Also tries to add the TLS driver (rsyslog-openssl).
pub fn ensure_rsyslogd() -> PathBuf {
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = rsyslogd_path() {
        if tls_driver().is_none() {
            apt_install(&["rsyslog-openssl"]);
        }
        return p;
    }
    apt_install(&["rsyslog", "rsyslog-openssl"]);
    rsyslogd_path().unwrap_or_else(|| {
        panic!(
            "rsyslogd is not installed and `apt-get install -y rsyslog rsyslog-openssl` did not work: \
             install the Debian package rsyslog (and rsyslog-openssl for the TLS test) and run the tests again"
        )
    })
}

/// Server certificate files for rsyslog's TLS listener.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A running (or stopped) rsyslogd.
pub struct Rsyslog {
    exe: PathBuf,
    dir: PathBuf,
    conf: PathBuf,
    pid: PathBuf,
    log: PathBuf,
    pub out: PathBuf,
    pub udp: u16,
    pub tcp: u16,
    child: Option<Child>,
}

impl Rsyslog {
    /// Starts rsyslogd in `dir` (which must exist) and waits until its TCP input listens.
    pub fn start(dir: &Path, tls: Option<(&str, &TlsFiles)>) -> Self {
        let exe = ensure_rsyslogd();
        let work = dir.join("work");
        std::fs::create_dir_all(&work).unwrap();
        let out = dir.join("received.log");
        let udp = free_udp_port();
        let tcp = free_tcp_port();
        let tls_global = match tls {
            Some((_, f)) => format!(
                "global(DefaultNetstreamDriverCAFile=\"{}\" DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\")\n",
                f.ca.display(),
                f.cert.display(),
                f.key.display()
            ),
            None => String::new(),
        };
        let imtcp = match tls {
            Some((driver, _)) => format!(
                "module(load=\"imtcp\" StreamDriver.Name=\"{driver}\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")"
            ),
            None => "module(load=\"imtcp\")".to_owned(),
        };
        let conf = format!(
            r#"global(workDirectory="{work}" maxMessageSize="64k")
{tls_global}module(load="imudp")
{imtcp}
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="squadron") {{
    action(type="omfile" file="{out}" template="raw" flushOnTXEnd="on" asyncWriting="off")
}}
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="squadron")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="squadron")
"#,
            work = work.display(),
            out = out.display(),
        );
        let conf_path = dir.join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut r = Self {
            exe,
            dir: dir.to_owned(),
            conf: conf_path,
            pid: dir.join("rsyslogd.pid"),
            log: dir.join("rsyslogd.stderr"),
            out,
            udp,
            tcp,
            child: None,
        };
        r.resume();
        r
    }

    /// (Re)starts rsyslogd with the same config and ports.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "rsyslogd is already running");
        let _ = std::fs::remove_file(&self.pid);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.exe)
            .arg("-n")
            .arg("-f")
            .arg(&self.conf)
            .arg("-i")
            .arg(&self.pid)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.exe.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.tcp)).is_ok() {
                break;
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!(
                    "rsyslogd exited at start ({status}): {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not listen on 127.0.0.1:{} within 15 s: {}",
                self.tcp,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // imudp binds before imtcp in our config, and both before the listener answers.
    }

    /// Stops rsyslogd with SIGTERM (as `systemctl stop` would) and waits for it to exit.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line received so far.
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The records received so far, in order.
    pub fn got(&self) -> Vec<Got> {
        self.lines()
            .iter()
            .filter_map(|l| parse_record(l))
            .collect()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A CA and a server certificate for `localhost` and 127.0.0.1, made with the openssl CLI.
pub fn make_certs(dir: &Path) -> TlsFiles {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("the TLS tests need the openssl CLI: {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Squadron test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}
