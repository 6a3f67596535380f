//! Every route of the service, registered in one place.

mod admin;
mod audit;
mod docs_viewer;
mod email_verification;
pub mod metrics;
mod ops;
mod password_resets;
mod phone_verification;
mod preferences;
mod reports;
mod resource;

pub use ops::OPENAPI_YAML;
mod sessions;
mod stamps;
mod users;
pub mod web_app;

use actix_web::web;

pub use resource::Resource;

/// The resources of the API, in registration order. The OpenAPI test compares this list
/// with `openapi.yaml`.
pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new("/healthz").get(ops::healthz),
        Resource::new("/readyz").get(ops::readyz),
        Resource::new("/openapi.yaml").get(ops::openapi),
        Resource::new("/docs").get(docs_viewer::page),
        Resource::new("/api/v1/users").post(users::signup).get(admin::list),
        Resource::new("/api/v1/users/me").get(users::me).patch(users::update_me).delete(users::delete_me),
        Resource::new("/api/v1/users/me/password").put(users::change_password),
        Resource::new("/api/v1/users/me/email-verification").post(email_verification::request),
        Resource::new("/api/v1/email-verifications/confirm").post(email_verification::confirm),
        Resource::new("/api/v1/users/me/phone-verification").post(phone_verification::request),
        Resource::new("/api/v1/users/me/phone-verification/confirm").post(phone_verification::confirm),
        Resource::new("/api/v1/users/{id}").patch(admin::update),
        Resource::new("/api/v1/sessions").post(sessions::login).get(sessions::list).delete(sessions::revoke_others),
        Resource::new("/api/v1/sessions/current").get(sessions::current).delete(sessions::logout),
        Resource::new("/api/v1/sessions/current/reauthentication").post(sessions::reauthenticate),
        Resource::new("/api/v1/sessions/{id}").delete(sessions::revoke),
        Resource::new("/api/v1/stamps").get(stamps::card).post(stamps::stamp),
        Resource::new("/api/v1/stamps/events").get(stamps::events),
        Resource::new("/api/v1/stamps/events/{id}/void").post(stamps::void),
        Resource::new("/api/v1/stamps/redemptions").post(stamps::redeem),
        Resource::new("/api/v1/stamps/card-code").post(stamps::card_code),
        Resource::new("/api/v1/stamps/stream").get(stamps::stream),
        Resource::new("/api/v1/reports/daily").get(reports::daily),
        Resource::new("/api/v1/reports/staff").get(reports::staff),
        Resource::new("/api/v1/reports/events.csv").get(reports::events_csv),
        Resource::new("/api/v1/audit").get(audit::list),
        Resource::new("/api/v1/password-resets").post(password_resets::request),
        Resource::new("/api/v1/password-resets/confirm").post(password_resets::confirm),
        Resource::new("/api/v1/preferences").get(preferences::get).put(preferences::put),
    ]
}

/// Registers every resource on the app, the API reference's assets and the web app.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for resource in resources() {
        cfg.service(resource.build());
    }
    docs_viewer::configure(cfg);
    web_app::configure(cfg);
}
