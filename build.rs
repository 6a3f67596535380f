//! Embeds the web app (`web/`) in the binary, as it is: there is no front-end build step, so
//! what the binary serves is exactly the source in the repository. The assets get a content
//! hash (of every path and its bytes), which names the directory they are served from, so that
//! browsers may cache them for good.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    println!("cargo:rerun-if-changed=web");
    let assets_dir = web.join("assets");
    let mut assets = Vec::new();
    collect(&assets_dir, &assets_dir, &mut assets);
    assets.sort();
    let mut hash = Sha256::new();
    let mut table = String::new();
    for (relative, path) in &assets {
        hash.update(relative.as_bytes());
        hash.update([0]);
        hash.update(std::fs::read(path).expect("read an asset"));
        hash.update([0]);
        writeln!(table, "    ({relative:?}, include_bytes!({:?})),", path.display().to_string()).unwrap();
    }
    let digest: String = hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let code = format!(
        "/// The content hash of every asset: the directory they are served from.\n\
         pub const ASSETS_HASH: &str = {digest:?};\n\
         /// Every asset, by its path under `web/assets/`.\n\
         pub static ASSETS: &[(&str, &[u8])] = &[\n{table}];\n\
         /// `web/index.html`, as written (its `__ASSETS__` is replaced when served).\n\
         pub const INDEX_HTML: &str = include_str!({:?});\n\
         /// `web/routes.json`: the app's own routes.\n\
         pub const ROUTES_JSON: &str = include_str!({:?});\n",
        web.join("index.html").display().to_string(),
        web.join("routes.json").display().to_string(),
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("web_app.rs");
    std::fs::write(out, code).expect("write web_app.rs");
}

/// Every file under `dir`, with its path relative to `root` (`/`-separated).
fn collect(root: &Path, dir: &Path, into: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).expect("read web/assets") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, into);
        } else {
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            into.push((relative, path));
        }
    }
}
