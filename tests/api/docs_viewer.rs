//! `GET /docs`: the API reference's page, with a policy of its own, and its vendored viewer
//! cached for good. (That it renders every operation and sends requests is the browser's to
//! prove: `tests/browser/specs/docs.spec.js`.)

use reqwest::{Method, StatusCode};

use crate::helpers::spawn_app;

/// The directives of a `Content-Security-Policy`, by name.
fn directives(csp: &str) -> Vec<(String, Vec<String>)> {
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace().map(str::to_owned);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

#[tokio::test]
async fn the_reference_page_has_its_own_strict_policy_and_no_cache() {
    let app = spawn_app().await;
    let client = app.client();
    for method in [Method::GET, Method::HEAD] {
        let res = client.send(method.clone(), "/docs", None, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{method}");
        assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(res.header("referrer-policy"), Some("same-origin"));
        assert_eq!(res.header("cache-control"), Some("no-cache"));
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        let csp = directives(res.header("content-security-policy").expect("a CSP"));
        let sources = |name: &str| csp.iter().find(|(n, _)| n == name).map(|(_, s)| s.join(" "));
        assert_eq!(sources("default-src").as_deref(), Some("'none'"), "{csp:?}");
        assert_eq!(sources("script-src").as_deref(), Some("'self'"), "no inline script, no eval: {csp:?}");
        assert_eq!(sources("style-src").as_deref(), Some("'self'"), "{csp:?}");
        assert_eq!(sources("connect-src").as_deref(), Some("'self'"), "{csp:?}");
        assert_eq!(sources("frame-ancestors").as_deref(), Some("'none'"), "{csp:?}");
        for (name, sources) in &csp {
            for source in sources {
                let allowed =
                    ["'self'", "'none'"].contains(&source.as_str()) || (name == "img-src" && source == "data:");
                assert!(allowed, "{name} allows {source}: only 'self' and what the viewer needs");
            }
        }
    }
    let res = client.send(Method::POST, "/docs", None, &[]).await;
    res.assert_problem(405, "method_not_allowed");
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn the_page_loads_the_viewer_from_this_server_only_and_the_assets_are_immutable() {
    let app = spawn_app().await;
    let client = app.client();
    let page = client.get("/docs").await.text;
    let urls: Vec<&str> =
        page.split(['"', '\'']).filter(|s| s.starts_with('/') || s.contains("://") || s.starts_with("//")).collect();
    assert!(!urls.is_empty(), "{page}");
    let mut scripts = 0;
    for url in urls {
        if url == "/openapi.yaml" {
            continue; // the <noscript> link to the document
        }
        assert!(url.starts_with("/docs/assets/"), "the page names {url}: nothing from elsewhere");
        let res = client.get(url).await;
        assert_eq!(res.status, StatusCode::OK, "{url}");
        assert_eq!(res.header("cache-control"), Some("public, max-age=31536000, immutable"), "{url}");
        let kind = res.header("content-type").unwrap_or_default();
        if url.ends_with(".js") {
            assert_eq!(kind, "text/javascript; charset=utf-8", "{url}");
            scripts += 1;
        } else {
            assert_eq!(kind, "text/css; charset=utf-8", "{url}");
        }
        let stale = url.replace(url.split('/').nth(3).unwrap(), "0123456789abcdef");
        client.get(&stale).await.assert_problem(404, "not_found");
    }
    assert_eq!(scripts, 2, "the viewer and our init script");
    assert!(!page.contains("<script>") && !page.contains("style="), "nothing inline: {page}");
    // The init script renders the server's own document, and no other.
    let init = page.split('"').find(|s| s.ends_with("/init.js")).unwrap();
    let init = client.get(init).await.text;
    assert!(init.contains("url: '/openapi.yaml'") && init.contains("queryConfigEnabled: false"), "{init}");
}
