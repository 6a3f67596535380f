//! Embeds what the binary serves to browsers, as it is in the repository: the web app (`web/`)
//! and the API reference's viewer (`web/docs/`: Swagger UI, vendored, and its page). There is no
//! front-end build step, so what the binary serves is exactly the source in the repository. Each
//! set of assets gets a content hash (of every path and its bytes), which names the directory
//! they are served from, so that browsers may cache them for good.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=web");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());

    let (digest, table) = embed(&root, "web/assets");
    let code = format!(
        "/// The content hash of every asset: the directory they are served from.\n\
         pub const ASSETS_HASH: &str = {digest:?};\n\
         /// Every asset, by its path under `web/assets/`.\n\
         pub static ASSETS: &[(&str, &[u8])] = &[\n{table}];\n\
         /// `web/index.html`, as written (its `__ASSETS__` is replaced when served).\n\
         pub const INDEX_HTML: &str = include_str!({});\n\
         /// `web/routes.json`: the app's own routes.\n\
         pub const ROUTES_JSON: &str = include_str!({});\n",
        in_package("web/index.html"),
        in_package("web/routes.json"),
    );
    std::fs::write(out.join("web_app.rs"), code).expect("write web_app.rs");

    let (digest, table) = embed(&root, "web/docs/assets");
    let code = format!(
        "/// The content hash of the viewer's assets: the directory they are served from.\n\
         pub const ASSETS_HASH: &str = {digest:?};\n\
         /// Every asset of the viewer, by its path under `web/docs/assets/`.\n\
         pub static ASSETS: &[(&str, &[u8])] = &[\n{table}];\n\
         /// `web/docs/index.html`, as written (its `__ASSETS__` is replaced when served).\n\
         pub const INDEX_HTML: &str = include_str!({});\n",
        in_package("web/docs/index.html"),
    );
    std::fs::write(out.join("docs_viewer.rs"), code).expect("write docs_viewer.rs");
}

/// A file of the package, as the included code names it: by the package's directory at the time
/// the crate compiles, not an absolute path written here, so that the generated code (and so the
/// build) stays valid when the same sources are compiled from another directory with the same
/// target directory (`.ci/readme.sh` runs the README in a copy of the repository).
fn in_package(relative: &str) -> String {
    format!("concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?})", format!("/{relative}"))
}

/// The content hash of every file under `root/dir` (16 hex digits), and the lines of a table
/// of them: `(path under dir, include_bytes!(file)),`.
fn embed(root: &Path, dir: &str) -> (String, String) {
    let mut assets = Vec::new();
    let dir_path = root.join(dir);
    collect(&dir_path, &dir_path, &mut assets);
    assets.sort();
    let mut hash = Sha256::new();
    let mut table = String::new();
    for (relative, path) in &assets {
        hash.update(relative.as_bytes());
        hash.update([0]);
        hash.update(std::fs::read(path).expect("read an asset"));
        hash.update([0]);
        writeln!(table, "    ({relative:?}, include_bytes!({})),", in_package(&format!("{dir}/{relative}"))).unwrap();
    }
    let digest = hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    (digest, table)
}

/// Every file under `dir`, with its path relative to `root` (`/`-separated).
fn collect(root: &Path, dir: &Path, into: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, into);
        } else {
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            into.push((relative, path));
        }
    }
}
