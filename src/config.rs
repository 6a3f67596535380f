//! The configuration: one typed struct, read by clap from flags, the environment and `.env`
//! (in that order of precedence), and validated as it is read. Each setting is written once,
//! here: its flag, its variable, its default, its range and its help. The README's table is
//! checked against this struct by a test (`tests/api/config.rs`).
//!
//! Every value parser names what was wrong; the variable itself is the flag's value name, so
//! clap's own messages name it, and `main` turns them into one line for the operator (without
//! the value of a secret). An empty variable counts as unset ([`unset_empty_variables`]).

use std::net::ToSocketAddrs;
use std::time::Duration;

use actix_web::cookie::SameSite;
use base64::Engine;
use clap::{Args, ValueEnum};
use ipnet::IpNet;

/// The validated configuration of one process. Handlers get it as `web::Data<Config>`.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL URL; unset: a local development cluster under ./.data/ is started and used.
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", global = true, hide_env_values = true, value_parser = database_url)]
    pub database_url: Option<String>,
    /// Listen address.
    #[arg(long, env = "STAMPCARD_ADDR", value_name = "STAMPCARD_ADDR", global = true, default_value = "127.0.0.1:8080", value_parser = socket_address)]
    pub addr: String,
    /// Cookie encryption key: at least 64 bytes, as 128+ hex characters or base64. Required
    /// unless dev mode is on, where a random key is generated.
    #[arg(long, env = "STAMPCARD_SECRET_KEY", value_name = "STAMPCARD_SECRET_KEY", global = true, hide_env_values = true, value_parser = secret_key)]
    pub secret_key: Option<SecretKey>,
    /// Dev mode (1/true or 0/false): cookies without Secure (and without the __Host- prefix),
    /// random key allowed [default: off; on with the local development cluster].
    #[arg(long, env = "STAMPCARD_DEV", value_name = "STAMPCARD_DEV", global = true, value_parser = boolean)]
    pub dev: Option<bool>,
    /// Comma-separated origins allowed for CORS with credentials and unsafe cross-origin requests.
    #[arg(long, env = "STAMPCARD_ALLOWED_ORIGINS", value_name = "STAMPCARD_ALLOWED_ORIGINS", global = true, default_value = "", hide_default_value = true, value_parser = origins)]
    pub allowed_origins: Origins,
    /// bcrypt cost, 4..=31.
    #[arg(long, env = "STAMPCARD_BCRYPT_COST", value_name = "STAMPCARD_BCRYPT_COST", global = true, default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,
    /// Stamps for one free coffee, 1..=1000.
    #[arg(long, env = "STAMPCARD_STAMPS_PER_REWARD", value_name = "STAMPCARD_STAMPS_PER_REWARD", global = true, default_value_t = 10, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub stamps_per_reward: i32,
    /// Absolute session lifetime in seconds, 1..=31536000 (14 days by default).
    #[arg(long, env = "STAMPCARD_SESSION_TTL", value_name = "STAMPCARD_SESSION_TTL", global = true, default_value_t = 1_209_600, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub session_ttl: u64,
    /// Seconds a password proof (login, signup, password change, re-authentication) allows
    /// sensitive changes in its session: username, email, phone, admin changes, the export;
    /// 1..=86400.
    #[arg(long = "reauth-window", env = "STAMPCARD_REAUTH_WINDOW", value_name = "STAMPCARD_REAUTH_WINDOW", global = true, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub reauth_window: u64,
    /// Comma-separated ISO 3166 regions whose phone numbers are accepted (KR, JP, ...).
    #[arg(long, env = "STAMPCARD_PHONE_REGIONS", value_name = "STAMPCARD_PHONE_REGIONS", global = true, default_value = "KR", value_parser = phone_regions)]
    pub phone_regions: PhoneRegions,
    /// SMS the whole service sends at most per hour; past it, phone codes are 503, 1..=1000000.
    #[arg(long, env = "STAMPCARD_SMS_HOURLY_LIMIT", value_name = "STAMPCARD_SMS_HOURLY_LIMIT", global = true, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub sms_hourly_limit: u32,
    /// Signups per client address (IPv6: per /64) per hour; 0 turns the limit off (for test and
    /// benchmark rigs only), 0..=1000000.
    #[arg(long, env = "STAMPCARD_SIGNUPS_PER_HOUR", value_name = "STAMPCARD_SIGNUPS_PER_HOUR", global = true, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub signups_per_hour: u32,
    /// Staff may redeem rewards by phone number, not only by card code (1/true or 0/false).
    #[arg(long, env = "STAMPCARD_REDEEM_BY_PHONE", value_name = "STAMPCARD_REDEEM_BY_PHONE", global = true, default_value = "true", action = clap::ArgAction::Set, value_parser = boolean)]
    pub redeem_by_phone: bool,
    /// The cafe's time zone, an IANA name (Asia/Seoul, Europe/Berlin): the reports' calendar
    /// days. `serve` refuses a name PostgreSQL does not know.
    #[arg(long, env = "STAMPCARD_TIMEZONE", value_name = "STAMPCARD_TIMEZONE", global = true, default_value = "Asia/Seoul", value_parser = time_zone)]
    pub timezone: String,
    /// Days an audit entry cannot be deleted (the database refuses); older ones are purged,
    /// 1..=36500.
    #[arg(long = "audit-retention-days", env = "STAMPCARD_AUDIT_RETENTION_DAYS", value_name = "STAMPCARD_AUDIT_RETENTION_DAYS", global = true, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub audit_retention_days: u32,
    /// A PostgreSQL streaming replica the reports and the export read from [default: none:
    /// they read from DATABASE_URL].
    #[arg(long, env = "STAMPCARD_REPLICA_URL", value_name = "STAMPCARD_REPLICA_URL", global = true, hide_env_values = true, value_parser = database_url)]
    pub replica_url: Option<String>,
    /// Comma-separated proxy addresses or CIDR ranges whose X-Forwarded-For is believed.
    #[arg(long, env = "STAMPCARD_TRUSTED_PROXIES", value_name = "STAMPCARD_TRUSTED_PROXIES", global = true, default_value = "", hide_default_value = true, value_parser = proxies)]
    pub trusted_proxies: Proxies,
    /// SameSite attribute of the session cookie.
    #[arg(
        long = "cookie-same-site",
        env = "STAMPCARD_COOKIE_SAMESITE",
        value_name = "STAMPCARD_COOKIE_SAMESITE",
        global = true,
        default_value = "lax",
        ignore_case = true
    )]
    pub cookie_same_site: SameSiteSetting,
    /// Database connections in the pool, 1..=1000.
    #[arg(long, env = "STAMPCARD_DB_POOL_SIZE", value_name = "STAMPCARD_DB_POOL_SIZE", global = true, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: u32,
    /// Milliseconds a request waits for a database connection before answering 503, 10..=600000.
    #[arg(long = "db-timeout-ms", env = "STAMPCARD_DB_TIMEOUT_MS", value_name = "STAMPCARD_DB_TIMEOUT_MS", global = true, default_value_t = 3000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub db_timeout_ms: u64,
    /// SMTP server for outbound mail (password resets), e.g. smtp://127.0.0.1:2525 or
    /// smtps://user:pass@host:465 [default: none: in dev mode mail is logged, otherwise the
    /// endpoints that send it answer 503].
    #[arg(long, env = "STAMPCARD_SMTP_URL", value_name = "STAMPCARD_SMTP_URL", global = true, hide_env_values = true, value_parser = smtp_url)]
    pub smtp_url: Option<String>,
    /// The sender of outbound mail.
    #[arg(long, env = "STAMPCARD_MAIL_FROM", value_name = "STAMPCARD_MAIL_FROM", global = true, default_value = "stampcard <noreply@localhost>", value_parser = mailbox)]
    pub mail_from: String,
    /// SMS gateway: the server POSTs {"to": "+8210...", "text": "..."} here; 2xx means accepted
    /// [default: none: in dev mode SMS are logged, otherwise the endpoints that send them
    /// answer 503].
    #[arg(long, env = "STAMPCARD_SMS_WEBHOOK_URL", value_name = "STAMPCARD_SMS_WEBHOOK_URL", global = true, hide_env_values = true, value_parser = http_url)]
    pub sms_webhook_url: Option<String>,
    /// Where links in messages point, e.g. https://stamps.example.com [default: http:// +
    /// STAMPCARD_ADDR].
    #[arg(long, env = "STAMPCARD_PUBLIC_URL", value_name = "STAMPCARD_PUBLIC_URL", global = true, value_parser = http_url)]
    pub public_url: Option<String>,
    /// Only verified phones count (1/true or 0/false): staff find only verified phones, and a
    /// phone is taken only while a verified user holds it.
    #[arg(long, env = "STAMPCARD_REQUIRE_VERIFIED_PHONE", value_name = "STAMPCARD_REQUIRE_VERIFIED_PHONE", global = true, default_value = "false", action = clap::ArgAction::Set, value_parser = boolean)]
    pub require_verified_phone: bool,
    /// Address of the Prometheus metrics listener (GET /metrics), apart from the public one
    /// [default: none, no metrics listener].
    #[arg(long, env = "STAMPCARD_METRICS_ADDR", value_name = "STAMPCARD_METRICS_ADDR", global = true, value_parser = socket_address)]
    pub metrics_addr: Option<String>,
    /// Log lines as text, or as one JSON object per line for log shippers.
    #[arg(
        long,
        env = "STAMPCARD_LOG_FORMAT",
        value_name = "STAMPCARD_LOG_FORMAT",
        global = true,
        default_value = "text",
        ignore_case = true
    )]
    pub log_format: LogFormat,
    /// HTTP worker threads, 1..=1024 [default: one per core].
    #[arg(long, env = "STAMPCARD_WORKERS", value_name = "STAMPCARD_WORKERS", global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,
}

impl Config {
    /// Whether dev mode is on: explicitly, or implied by the local development cluster.
    pub fn is_dev(&self) -> bool {
        self.dev.unwrap_or(self.database_url.is_none())
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl)
    }

    pub fn reauth_window(&self) -> Duration {
        Duration::from_secs(self.reauth_window)
    }

    pub fn db_timeout(&self) -> Duration {
        Duration::from_millis(self.db_timeout_ms)
    }

    /// Where links in messages point: `STAMPCARD_PUBLIC_URL`, or the listen address.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.addr)).trim_end_matches('/').to_owned()
    }

    pub fn workers(&self) -> usize {
        self.workers.map_or_else(cores, usize::from)
    }

    /// The defaults of every setting, with the given database: for tests and tools. The
    /// environment is not read.
    pub fn for_database(url: &str) -> Self {
        let command = Self::augment_args(clap::Command::new("stampcard")).mut_args(|arg| arg.env(None));
        let matches = command.try_get_matches_from(["stampcard"]).expect("the defaults are valid");
        let mut config = <Self as clap::FromArgMatches>::from_arg_matches(&matches).expect("the defaults are valid");
        config.database_url = Some(url.to_owned());
        config
    }
}

/// The machine's cores: the default for threads per core.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Makes an empty variable count as unset, as a blank line in `.env` means: clap reads the
/// environment when the command is built, so this runs on the finished command.
pub fn unset_empty_variables(command: clap::Command) -> clap::Command {
    command.mut_args(|arg| {
        let empty = arg.get_env().and_then(std::env::var_os).is_some_and(|v| v.to_string_lossy().trim().is_empty());
        if empty {
            arg.env(None)
        } else {
            arg
        }
    })
}

/// The cookie key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey(pub Vec<u8>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({} bytes)", self.0.len())
    }
}

/// `STAMPCARD_ALLOWED_ORIGINS`, each normalised to `scheme://host[:port]` in lower case.
#[derive(Debug, Clone, Default)]
pub struct Origins(pub Vec<String>);

/// `STAMPCARD_TRUSTED_PROXIES`, each a network (an address is a network of one).
#[derive(Debug, Clone, Default)]
pub struct Proxies(pub Vec<IpNet>);

/// `STAMPCARD_PHONE_REGIONS`: where the phone numbers we accept are from (SMS to anywhere else
/// is what SMS pumping sells).
#[derive(Debug, Clone)]
pub struct PhoneRegions(pub Vec<phonenumber::country::Id>);

impl PhoneRegions {
    pub fn allows(&self, region: phonenumber::country::Id) -> bool {
        self.0.contains(&region)
    }
}

impl std::str::FromStr for PhoneRegions {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        phone_regions(value)
    }
}

/// `STAMPCARD_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `STAMPCARD_COOKIE_SAMESITE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SameSiteSetting {
    Lax,
    Strict,
    None,
}

impl From<SameSiteSetting> for SameSite {
    fn from(setting: SameSiteSetting) -> Self {
        match setting {
            SameSiteSetting::Lax => SameSite::Lax,
            SameSiteSetting::Strict => SameSite::Strict,
            SameSiteSetting::None => SameSite::None,
        }
    }
}

fn database_url(value: &str) -> Result<String, String> {
    let url = value.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(url.to_owned())
    } else {
        Err("must be a postgres:// or postgresql:// URL".into())
    }
}

/// An IANA time zone name as PostgreSQL spells them (`Asia/Seoul`, `UTC`): letters, digits,
/// `_`, `-`, `+` and `/` between parts. Whether PostgreSQL knows it is asked at `serve`.
fn time_zone(value: &str) -> Result<String, String> {
    let name = value.trim();
    let part = |p: &str| {
        p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))
    };
    if name.len() <= 64 && name.split('/').all(part) {
        Ok(name.to_owned())
    } else {
        Err(format!("{name:?} is not an IANA time zone name like Asia/Seoul"))
    }
}

fn smtp_url(value: &str) -> Result<String, String> {
    let url = value.trim();
    if url.starts_with("smtp://") || url.starts_with("smtps://") {
        Ok(url.to_owned())
    } else {
        Err("must be an smtp:// or smtps:// URL".into())
    }
}

fn http_url(value: &str) -> Result<String, String> {
    let url = value.trim();
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(url.to_owned()),
        _ => Err(format!("{url:?} is not an http:// or https:// URL")),
    }
}

/// `Name <address>` or a bare address, as a mail's `From`.
fn mailbox(value: &str) -> Result<String, String> {
    let value = value.trim();
    let address = value.rsplit_once('<').map_or(value, |(_, rest)| rest.trim_end_matches('>'));
    if address.contains('@') && !address.contains(char::is_whitespace) {
        Ok(value.to_owned())
    } else {
        Err(format!("{value:?} is not a mail address like \"stampcard <noreply@example.com>\""))
    }
}

fn socket_address(value: &str) -> Result<String, String> {
    let addr = value.trim();
    if addr.to_socket_addrs().is_ok_and(|mut addrs| addrs.next().is_some()) {
        Ok(addr.to_owned())
    } else {
        Err(format!("{addr:?} is not a host:port address"))
    }
}

fn boolean(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("must be 1/true or 0/false, got {other:?}")),
    }
}

/// Hex (128+ characters) or base64 (standard or URL-safe, padded or not), at least 64 bytes.
/// The value itself never appears in the message.
fn secret_key(value: &str) -> Result<SecretKey, String> {
    let value = value.trim();
    let is_hex = value.len() % 2 == 0 && value.bytes().all(|b| b.is_ascii_hexdigit());
    let decoded = if is_hex {
        hex::decode(value).ok()
    } else {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(value).ok())
    };
    match decoded {
        Some(key) if key.len() >= 64 => Ok(SecretKey(key)),
        Some(key) => Err(format!("must be at least 64 bytes after decoding, got {} bytes", key.len())),
        None => Err("must be hex (128 characters) or base64 encoding at least 64 bytes".into()),
    }
}

/// The non-empty items of a comma-separated list, trimmed.
fn items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn origins(value: &str) -> Result<Origins, String> {
    items(value)
        .map(|o| parse_origin(o).ok_or_else(|| format!("{o:?} is not an origin like https://app.example.com")))
        .collect::<Result<_, _>>()
        .map(Origins)
}

fn phone_regions(value: &str) -> Result<PhoneRegions, String> {
    let regions = items(value)
        .map(|r| {
            r.to_ascii_uppercase()
                .parse::<phonenumber::country::Id>()
                .map_err(|_| format!("{r:?} is not an ISO 3166 region like KR"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if regions.is_empty() {
        return Err("must name at least one region, like KR".into());
    }
    Ok(PhoneRegions(regions))
}

fn proxies(value: &str) -> Result<Proxies, String> {
    items(value)
        .map(|p| parse_trusted(p).ok_or_else(|| format!("{p:?} is not an IP address or CIDR range")))
        .collect::<Result<_, _>>()
        .map(Proxies)
}

/// `scheme://host[:port]` in lower case, as browsers send it in `Origin`.
pub fn parse_origin(value: &str) -> Option<String> {
    let value = value.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = value.split_once("://")?;
    let valid_host = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    (matches!(scheme, "http" | "https") && valid_host).then_some(value)
}

/// One trusted proxy: an address (a network of one) or a CIDR range.
pub fn parse_trusted(entry: &str) -> Option<IpNet> {
    entry.parse::<IpNet>().ok().or_else(|| entry.parse::<std::net::IpAddr>().ok().map(IpNet::from)).map(|n| n.trunc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Only {
        #[command(flatten)]
        config: Config,
    }

    /// Parses flags only (the environment of the test process is left out).
    fn with(args: &[&str]) -> Result<Config, clap::Error> {
        let command = Only::command().mut_args(|arg| arg.env(None));
        let matches = command.try_get_matches_from(std::iter::once("stampcard").chain(args.iter().copied()))?;
        <Config as clap::FromArgMatches>::from_arg_matches(&matches)
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = with(&[]).unwrap();
        assert_eq!(c.addr, "127.0.0.1:8080");
        assert_eq!(c.bcrypt_cost, 12);
        assert_eq!(c.stamps_per_reward, 10);
        assert_eq!(c.session_ttl(), Duration::from_secs(1_209_600));
        assert_eq!(c.cookie_same_site, SameSiteSetting::Lax);
        assert!(c.allowed_origins.0.is_empty() && c.trusted_proxies.0.is_empty());
        assert_eq!(c.reauth_window(), Duration::from_secs(600));
        assert_eq!(c.phone_regions.0, [phonenumber::country::Id::KR]);
        assert_eq!((c.sms_hourly_limit, c.signups_per_hour), (500, 100));
        assert_eq!((c.timezone.as_str(), c.audit_retention_days, c.replica_url.as_deref()), ("Asia/Seoul", 365, None));
        assert!(c.is_dev(), "no DATABASE_URL means the dev cluster, hence dev mode");
        let d = Config::for_database("postgres://x@127.0.0.1/db");
        assert!(!d.is_dev() && d.bcrypt_cost == 12);
    }

    #[test]
    fn a_time_zone_is_an_iana_shaped_name() {
        for good in ["Asia/Seoul", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+9"] {
            assert_eq!(time_zone(good).as_deref(), Ok(good));
        }
        for bad in ["", "Asia//Seoul", "/Asia", "Asia/Seoul'; --", "9/Seoul", "Asia/ Seoul"] {
            assert!(time_zone(bad).is_err(), "{bad:?}");
        }
        let err = with(&["--timezone", "Mars Base"]).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("STAMPCARD_TIMEZONE"), "{err}");
    }

    #[test]
    fn a_short_secret_key_is_refused_without_showing_it() {
        let err = secret_key(&"ab".repeat(63)).unwrap_err();
        assert!(err.contains("63 bytes") && !err.contains("abab"), "{err}");
        let err = with(&["--secret-key", &"ab".repeat(63)]).err().unwrap().to_string();
        assert!(err.contains("STAMPCARD_SECRET_KEY"), "{err}");
    }

    #[test]
    fn hex_and_base64_keys_of_64_bytes_are_accepted() {
        assert_eq!(secret_key(&"0f".repeat(64)).unwrap().0.len(), 64);
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        assert_eq!(secret_key(&b64).unwrap().0, vec![7u8; 64]);
    }

    #[test]
    fn bcrypt_cost_outside_4_to_31_is_refused_naming_the_variable() {
        for bad_cost in ["3", "32", "twelve", "-1"] {
            let err = with(&[&format!("--bcrypt-cost={bad_cost}")]).err().unwrap().to_string();
            assert!(err.contains("STAMPCARD_BCRYPT_COST"), "{err}");
        }
        assert_eq!(with(&["--bcrypt-cost", "4"]).unwrap().bcrypt_cost, 4);
    }

    #[test]
    fn origins_and_proxies_are_validated() {
        let c = with(&["--allowed-origins", "https://App.example.com/, http://localhost:5173,"]).unwrap();
        assert_eq!(c.allowed_origins.0, ["https://app.example.com", "http://localhost:5173"]);
        assert!(with(&["--allowed-origins", "app.example.com"]).is_err());
        assert!(with(&["--trusted-proxies", "10.0.0.1,nope"]).is_err());
        let c = with(&["--trusted-proxies", "10.0.0.1, 172.16.0.0/12, fd00::/8"]).unwrap();
        assert_eq!(c.trusted_proxies.0.len(), 3);
        assert!(with(&["--dev", "maybe"]).is_err());
        assert_eq!(with(&["--cookie-same-site", "Strict"]).unwrap().cookie_same_site, SameSiteSetting::Strict);
    }

    #[test]
    fn phone_regions_are_iso_codes() {
        use phonenumber::country::Id;
        assert_eq!(with(&["--phone-regions", "kr, JP"]).unwrap().phone_regions.0, [Id::KR, Id::JP]);
        for bad in ["", "Korea", "XX"] {
            let err = with(&["--phone-regions", bad]).err().unwrap().to_string();
            assert!(err.contains("STAMPCARD_PHONE_REGIONS"), "{err}");
        }
    }

    #[test]
    fn trusted_entries_are_addresses_or_ranges() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(parse_trusted("10.0.0.1").unwrap().contains(&ip("10.0.0.1")));
        assert!(!parse_trusted("10.0.0.1").unwrap().contains(&ip("10.0.0.2")));
        assert!(parse_trusted("10.0.0.0/8").unwrap().contains(&ip("10.200.0.1")));
        assert!(parse_trusted("fd00::/8").unwrap().contains(&ip("fd12::1")));
        assert!(parse_trusted("10.0.0.0/33").is_none());
        assert!(parse_trusted("nope").is_none());
    }
}
