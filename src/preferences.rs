//! Preferences kept in the `stampcard_prefs` cookie: language and theme. Never used for
//! anything security-relevant; a SPA may read it (not HttpOnly). Also the language of a
//! request ([`Lang::of`]), which the cookie decides first.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};

pub const PREFS_COOKIE: &str = "stampcard_prefs";

/// A language the API speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ko,
}

impl Lang {
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            "ko" => Some(Self::Ko),
            _ => None,
        }
    }

    /// The language of a request: the preference cookie first, then `Accept-Language`, then
    /// English.
    pub fn of(req: &HttpRequest) -> Self {
        Preferences::from_cookie(req)
            .and_then(|p| p.language)
            .or_else(|| req.headers().get(header::ACCEPT_LANGUAGE)?.to_str().ok().and_then(Self::from_accept_language))
            .unwrap_or_default()
    }

    /// The first supported language of an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut ranked: Vec<(f32, Self)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let lang = Self::parse(parts.next()?)?;
                let q =
                    parts.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, lang)| *lang)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

/// What the cookie holds; either part may be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preferences {
    pub language: Option<Lang>,
    pub theme: Option<Theme>,
}

impl Preferences {
    /// Reads `language=ko&theme=dark`; unknown or broken parts are ignored.
    pub fn from_cookie(req: &HttpRequest) -> Option<Self> {
        let cookie = req.cookie(PREFS_COOKIE)?;
        let mut prefs = Self::default();
        for pair in cookie.value().split('&') {
            match pair.split_once('=') {
                Some(("language", value)) => prefs.language = Lang::parse(value),
                Some(("theme", "light")) => prefs.theme = Some(Theme::Light),
                Some(("theme", "dark")) => prefs.theme = Some(Theme::Dark),
                _ => {}
            }
        }
        Some(prefs)
    }

    /// The cookie that stores these preferences for a year.
    pub fn to_cookie(self, secure: bool) -> Cookie<'static> {
        let language = match self.language.unwrap_or_default() {
            Lang::En => "en",
            Lang::Ko => "ko",
        };
        let theme = match self.theme.unwrap_or_default() {
            Theme::Light => "light",
            Theme::Dark => "dark",
        };
        Cookie::build(PREFS_COOKIE, format!("language={language}&theme={theme}"))
            .path("/")
            .http_only(false)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::days(365))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(Lang::from_accept_language("ko-KR,ko;q=0.9,en;q=0.8"), Some(Lang::Ko));
        assert_eq!(Lang::from_accept_language("fr, en;q=0.5, ko;q=0.4"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("ko;q=0"), None);
    }
}
