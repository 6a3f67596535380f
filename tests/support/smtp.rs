//! A real SMTP server for the tests: aiosmtpd (PyPI, pinned), delivering into a Maildir that
//! the tests read. Its virtual environment is made once, under cargo's temporary directory
//! for tests, and kept for later runs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// The Python of a virtual environment that has aiosmtpd.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aiosmtpd-venv");
        let python = venv.join("bin/python");
        let ready = || {
            Command::new(&python)
                .args(["-c", "import aiosmtpd"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ready() {
            let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().expect("python3 -m venv");
            assert!(made.success(), "could not make a virtual environment for aiosmtpd");
            let pip = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", AIOSMTPD])
                .status()
                .expect("pip");
            assert!(pip.success(), "could not install {AIOSMTPD} from PyPI");
        }
        python
    })
}

/// An aiosmtpd process on a port of its own, and the Maildir it writes to.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    pub fn start() -> Self {
        let maildir = std::env::temp_dir().join(format!("stampcard-mail-{}", uuid::Uuid::new_v4().simple()));
        let mut server = Self { port: devdb::free_port().expect("a free port"), maildir, child: None };
        server.resume();
        server
    }

    /// `smtp://127.0.0.1:<port>`, for `STAMPCARD_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server: connections to its port are refused until [`SmtpServer::resume`].
    pub fn pause(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on the same port, and waits until it accepts connections.
    pub fn resume(&mut self) {
        let child = Command::new(python())
            // SMTPUTF8: addresses may have non-ASCII local parts (`Émile@x.kr`).
            .args(["-m", "aiosmtpd", "-n", "--smtputf8", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every mail delivered so far, as raw RFC 5322 text.
    pub fn mails(&self) -> Vec<String> {
        let mut mails = Vec::new();
        for dir in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(dir)) else { continue };
            for entry in entries.flatten() {
                mails.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        mails
    }

    /// Waits until at least `n` mails were delivered (or panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        super::at_least(n, within, "mails", || self.mails()).await
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.pause();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// A mail's text: its body, decoded from quoted-printable or base64 when it is that (non-ASCII
/// text, the Korean half of our mails, makes lettre choose one of them).
pub fn text(mail: &str) -> String {
    use base64::Engine;
    let mail = mail.replace("\r\n", "\n");
    let (head, body) = mail.split_once("\n\n").unwrap_or((&mail, ""));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        let joined: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(joined).expect("a base64 body");
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    if !head.contains("content-transfer-encoding: quoted-printable") {
        return body.to_owned();
    }
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=').then(|| bytes.get(i + 1..i + 3)).flatten();
        match escaped.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reset token in a mail's link (`.../reset-password#token=<token>`).
pub fn reset_token(mail: &str) -> String {
    link_token(mail, "/reset-password")
}

/// The token in a mail's link to `path` (`<public url><path>#token=<token>`).
pub fn link_token(mail: &str, path: &str) -> String {
    let text = text(mail);
    let marker = format!("{path}#token=");
    let at = text.find(&marker).unwrap_or_else(|| panic!("no {path} link in the mail: {text}")) + marker.len();
    let token: String = text[at..].chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(token.len(), 64, "{text}");
    token
}

/// The mails with a link to `path`, in the order of `mails`.
pub fn with_link<'a>(mails: &'a [String], path: &str) -> Vec<&'a String> {
    mails.iter().filter(|m| text(m).contains(&format!("{path}#token="))).collect()
}

/// The mails sent to `address` so far.
pub fn to(mails: &[String], address: &str) -> Vec<String> {
    mails.iter().filter(|m| m.to_lowercase().contains(&format!("to: {}", address.to_lowercase()))).cloned().collect()
}
