//! Typed configuration, parsed and validated once at start-up.
//!
//! Every value arrives as text (environment, `.env` or a flag, see `cli.rs`) and is checked
//! here, so a bad value stops the process with one line naming the variable instead of
//! surfacing later as a confusing runtime error.

use std::net::ToSocketAddrs;
use std::time::Duration;

use actix_web::cookie::SameSite;
use base64::Engine;
use ipnet::IpNet;

use crate::auth::client_ip::parse_trusted;

/// The raw text of each setting, exactly as the command line or environment gave it.
#[derive(Debug, Default, Clone)]
pub struct RawConfig {
    pub database_url: Option<String>,
    pub addr: Option<String>,
    pub secret_key: Option<String>,
    pub dev: Option<String>,
    pub allowed_origins: Option<String>,
    pub bcrypt_cost: Option<String>,
    pub stamps_per_reward: Option<String>,
    pub session_ttl: Option<String>,
    pub trusted_proxies: Option<String>,
    pub cookie_same_site: Option<String>,
    pub db_pool_size: Option<String>,
    pub db_timeout_ms: Option<String>,
    pub workers: Option<String>,
}

/// A setting that failed validation; `Display` gives the one-line message for the operator.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

fn bad(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
}

/// The validated configuration of one process.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`; `None` means "start the local development cluster".
    pub database_url: Option<String>,
    /// `STAMPCARD_ADDR`: where `serve` listens.
    pub addr: String,
    /// `STAMPCARD_SECRET_KEY`, decoded: at least 64 bytes, or `None` when not given.
    pub secret_key: Option<Vec<u8>>,
    /// `STAMPCARD_DEV`: `Some(..)` when set explicitly, `None` when left to the default.
    pub dev: Option<bool>,
    /// `STAMPCARD_ALLOWED_ORIGINS`, normalised to `scheme://host[:port]`.
    pub allowed_origins: Vec<String>,
    /// `STAMPCARD_BCRYPT_COST`, 4..=31.
    pub bcrypt_cost: u32,
    /// `STAMPCARD_STAMPS_PER_REWARD`: stamps that buy one free coffee.
    pub stamps_per_reward: i32,
    /// `STAMPCARD_SESSION_TTL`: absolute lifetime of every session.
    pub session_ttl: Duration,
    /// `STAMPCARD_TRUSTED_PROXIES`: peers (addresses or CIDR ranges) whose `X-Forwarded-For`
    /// is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// `STAMPCARD_COOKIE_SAMESITE`: `SameSite` of the session cookie (lax by default).
    pub cookie_same_site: SameSite,
    /// `STAMPCARD_DB_POOL_SIZE`: connections in the pool.
    pub db_pool_size: u32,
    /// `STAMPCARD_DB_TIMEOUT_MS`: how long a request waits for a connection before a 503.
    pub db_timeout: Duration,
    /// `STAMPCARD_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: usize,
}

impl Config {
    /// Validates every setting; the first bad one is reported.
    pub fn from_raw(raw: RawConfig) -> Result<Self, ConfigError> {
        let database_url = text(&raw.database_url).map(str::to_owned);
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(bad("DATABASE_URL", "must be a postgres:// or postgresql:// URL"));
            }
        }
        let addr = text(&raw.addr).unwrap_or("127.0.0.1:8080").to_owned();
        if !addr.to_socket_addrs().is_ok_and(|mut addrs| addrs.next().is_some()) {
            return Err(bad("STAMPCARD_ADDR", format!("{addr:?} is not a host:port address")));
        }
        let secret_key = text(&raw.secret_key).map(parse_secret_key).transpose()?;
        let dev = text(&raw.dev).map(parse_bool).transpose()?;
        let allowed_origins = list(text(&raw.allowed_origins))
            .map(|o| {
                parse_origin(o).ok_or_else(|| {
                    bad("STAMPCARD_ALLOWED_ORIGINS", format!("{o:?} is not an origin like https://app.example.com"))
                })
            })
            .collect::<Result<_, _>>()?;
        let bcrypt_cost = int(text(&raw.bcrypt_cost), "STAMPCARD_BCRYPT_COST", 12, 4..=31)?;
        let stamps_per_reward = int(text(&raw.stamps_per_reward), "STAMPCARD_STAMPS_PER_REWARD", 10, 1..=1000)?;
        let session_ttl = int(text(&raw.session_ttl), "STAMPCARD_SESSION_TTL", 1_209_600, 1..=31_536_000)?;
        let trusted_proxies = list(text(&raw.trusted_proxies))
            .map(|p| {
                parse_trusted(p).ok_or_else(|| {
                    bad("STAMPCARD_TRUSTED_PROXIES", format!("{p:?} is not an IP address or CIDR range"))
                })
            })
            .collect::<Result<_, _>>()?;
        let cookie_same_site = match text(&raw.cookie_same_site).map(str::to_ascii_lowercase).as_deref() {
            None | Some("lax") => SameSite::Lax,
            Some("strict") => SameSite::Strict,
            Some("none") => SameSite::None,
            Some(other) => {
                return Err(bad("STAMPCARD_COOKIE_SAMESITE", format!("{other:?} is not one of lax, strict, none")))
            }
        };
        let db_pool_size = int(text(&raw.db_pool_size), "STAMPCARD_DB_POOL_SIZE", 16, 1..=1000)?;
        let db_timeout_ms: u64 = int(text(&raw.db_timeout_ms), "STAMPCARD_DB_TIMEOUT_MS", 3000, 10..=600_000)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = int(text(&raw.workers), "STAMPCARD_WORKERS", cores as u32, 1..=1024)? as usize;
        Ok(Self {
            database_url,
            addr,
            secret_key,
            dev,
            allowed_origins,
            bcrypt_cost,
            stamps_per_reward,
            session_ttl: Duration::from_secs(session_ttl),
            trusted_proxies,
            cookie_same_site,
            db_pool_size,
            db_timeout: Duration::from_millis(db_timeout_ms),
            workers,
        })
    }

    /// Whether dev mode is on: explicitly, or implied by the local development cluster.
    pub fn is_dev(&self) -> bool {
        self.dev.unwrap_or(self.database_url.is_none())
    }

    /// A configuration for tests and tools: defaults everywhere, the given database.
    pub fn for_database(url: &str) -> Self {
        let raw = RawConfig { database_url: Some(url.to_owned()), ..RawConfig::default() };
        Self::from_raw(raw).expect("the defaults are valid")
    }
}

/// A setting's text, trimmed; empty counts as unset.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn list(value: Option<&str>) -> impl Iterator<Item = &str> {
    value.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn int<T>(
    value: Option<&str>,
    var: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(value) = value else { return Ok(default) };
    let reason = || format!("must be a whole number from {} to {}, got {value:?}", range.start(), range.end());
    let parsed: T = value.parse().map_err(|_| bad(var, reason()))?;
    if range.contains(&parsed) {
        Ok(parsed)
    } else {
        Err(bad(var, reason()))
    }
}

fn parse_bool(value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad("STAMPCARD_DEV", format!("must be 1/true or 0/false, got {value:?}"))),
    }
}

/// Hex (128+ characters) or base64 (standard or URL-safe, padded or not), at least 64 bytes.
/// The value itself never appears in the message.
fn parse_secret_key(value: &str) -> Result<Vec<u8>, ConfigError> {
    let is_hex = value.len() % 2 == 0 && value.bytes().all(|b| b.is_ascii_hexdigit());
    let decoded = if is_hex {
        hex::decode(value).ok()
    } else {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(value).ok())
    };
    match decoded {
        Some(key) if key.len() >= 64 => Ok(key),
        Some(key) => Err(bad(
            "STAMPCARD_SECRET_KEY",
            format!("must be at least 64 bytes after decoding, got {} bytes", key.len()),
        )),
        None => Err(bad("STAMPCARD_SECRET_KEY", "must be hex (128 characters) or base64 encoding at least 64 bytes")),
    }
}

/// `scheme://host[:port]` in lower case, as browsers send it in `Origin`.
pub fn parse_origin(value: &str) -> Option<String> {
    let value = value.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = value.split_once("://")?;
    let valid_host = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    (matches!(scheme, "http" | "https") && valid_host).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut RawConfig)) -> Result<Config, ConfigError> {
        let mut raw = RawConfig::default();
        f(&mut raw);
        Config::from_raw(raw)
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = with(|_| {}).unwrap();
        assert_eq!(c.addr, "127.0.0.1:8080");
        assert_eq!(c.bcrypt_cost, 12);
        assert_eq!(c.stamps_per_reward, 10);
        assert_eq!(c.session_ttl, Duration::from_secs(1_209_600));
        assert!(c.is_dev(), "no DATABASE_URL means the dev cluster, hence dev mode");
    }

    #[test]
    fn a_short_secret_key_names_the_variable() {
        let err = with(|r| r.secret_key = Some("ab".repeat(63))).unwrap_err();
        assert_eq!(err.var, "STAMPCARD_SECRET_KEY");
        assert!(err.to_string().contains("63 bytes"), "{err}");
    }

    #[test]
    fn hex_and_base64_keys_of_64_bytes_are_accepted() {
        assert_eq!(with(|r| r.secret_key = Some("0f".repeat(64))).unwrap().secret_key.unwrap().len(), 64);
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        assert_eq!(with(|r| r.secret_key = Some(b64)).unwrap().secret_key.unwrap(), vec![7u8; 64]);
    }

    #[test]
    fn bcrypt_cost_outside_4_to_31_is_refused() {
        for bad_cost in ["3", "32", "twelve", "-1"] {
            let err = with(|r| r.bcrypt_cost = Some(bad_cost.into())).unwrap_err();
            assert_eq!(err.var, "STAMPCARD_BCRYPT_COST");
        }
        assert_eq!(with(|r| r.bcrypt_cost = Some("4".into())).unwrap().bcrypt_cost, 4);
    }

    #[test]
    fn origins_and_proxies_are_validated() {
        let c = with(|r| r.allowed_origins = Some("https://App.example.com/, http://localhost:5173".into())).unwrap();
        assert_eq!(c.allowed_origins, ["https://app.example.com", "http://localhost:5173"]);
        assert_eq!(
            with(|r| r.allowed_origins = Some("app.example.com".into())).unwrap_err().var,
            "STAMPCARD_ALLOWED_ORIGINS"
        );
        assert_eq!(
            with(|r| r.trusted_proxies = Some("10.0.0.1,nope".into())).unwrap_err().var,
            "STAMPCARD_TRUSTED_PROXIES"
        );
        let c = with(|r| r.trusted_proxies = Some("10.0.0.1, 172.16.0.0/12, fd00::/8".into())).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        assert_eq!(with(|r| r.dev = Some("maybe".into())).unwrap_err().var, "STAMPCARD_DEV");
    }
}
