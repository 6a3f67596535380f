//! A path and its methods, registered so that any other method gets 405 with an `Allow`
//! header listing the path's methods (actix answers a bare 405 by default).

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder};

use actix_web::dev::HttpServiceFactory;
use actix_web::middleware::from_fn;

use crate::error::ApiError;
use crate::middleware::problems::keep_request;

/// Builds one `web::resource`, remembering its methods for `Allow` and for the route table
/// that the OpenAPI test compares with `openapi.yaml`.
pub struct Resource {
    path: &'static str,
    inner: actix_web::Resource,
    methods: Vec<Method>,
}

impl Resource {
    pub fn new(path: &'static str) -> Self {
        Self { path, inner: web::resource(path), methods: Vec::new() }
    }

    pub fn route<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.inner = self.inner.route(web::method(method.clone()).to(handler));
        self.methods.push(method);
        self
    }

    /// GET, and HEAD with it: the same handler, whose body actix leaves out for HEAD.
    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, handler.clone()).route(Method::HEAD, handler)
    }

    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::POST, handler)
    }

    pub fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PUT, handler)
    }

    pub fn patch<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PATCH, handler)
    }

    pub fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::DELETE, handler)
    }

    /// The path and its methods, as registered, HEAD aside: it comes with every GET, and
    /// `openapi.yaml` says so once rather than on every path.
    pub fn describe(&self) -> (&'static str, Vec<Method>) {
        (self.path, self.methods.iter().filter(|m| **m != Method::HEAD).cloned().collect())
    }

    /// The finished actix resource, with the 405 fallback.
    pub fn build(self) -> impl HttpServiceFactory {
        let allow = self.methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        self.inner
            .default_service(web::to(move || {
                let allow = allow.clone();
                async move { Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed { allow }) }
            }))
            .wrap(from_fn(keep_request))
    }
}
