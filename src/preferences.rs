//! Preferences kept in the `stampcard_prefs` cookie: language and theme. Never used for
//! anything security-relevant; a SPA may read it (not HttpOnly). Also the language of a
//! request, which the cookie decides first.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};

use crate::messages::Lang;

pub const PREFS_COOKIE: &str = "stampcard_prefs";

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

/// The language of a request: the preference cookie first, then `Accept-Language`, then English.
pub fn language(req: &HttpRequest) -> Lang {
    Preferences::from_cookie(req)
        .and_then(|p| p.language)
        .or_else(|| req.headers().get(header::ACCEPT_LANGUAGE)?.to_str().ok().and_then(Lang::from_accept_language))
        .unwrap_or_default()
}
