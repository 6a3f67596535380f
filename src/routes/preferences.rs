//! `/api/v1/preferences`: what cookies are for, when they are not about security.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use crate::config::Config;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::preferences::{Lang, Preferences, Theme};

fn body(language: Lang, theme: Theme) -> serde_json::Value {
    json!({"language": language, "theme": theme})
}

/// `GET /api/v1/preferences`: from the cookie, else `Accept-Language`, else en/light.
pub async fn get(req: HttpRequest) -> HttpResponse {
    let theme = Preferences::from_cookie(&req).and_then(|p| p.theme).unwrap_or_default();
    HttpResponse::Ok().json(body(Lang::of(&req), theme))
}

#[derive(Debug, Default, Deserialize, Validate)]
pub struct PreferencesBody {
    #[validate(required)]
    language: Option<Lang>,
    #[validate(required)]
    theme: Option<Theme>,
}

/// `PUT /api/v1/preferences`: stores both in `stampcard_prefs`.
pub async fn put(
    config: web::Data<Config>,
    ApiJson(prefs): ApiJson<PreferencesBody>,
) -> Result<HttpResponse, ApiError> {
    let (language, theme) = (prefs.language.unwrap_or_default(), prefs.theme.unwrap_or_default());
    let cookie = Preferences { language: Some(language), theme: Some(theme) }.to_cookie(!config.is_dev());
    Ok(HttpResponse::Ok().cookie(cookie).json(body(language, theme)))
}
