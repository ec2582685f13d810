//! Embeds the web pages' static assets (`web/static/`, the vendored Bootstrap Italia) into
//! the binary, so `serve` needs no files beside it: writes `$OUT_DIR/statici.rs`, a table
//! of (URL path under /static/, bytes).

use std::path::Path;

fn main() {
    // Read when the script runs, not baked in when it is compiled: cargo may reuse a
    // compiled build script for a checkout elsewhere (a worktree), whose directory then
    // may be gone, and the table came out empty without a word.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("web/static");
    println!("cargo:rerun-if-changed=web/static");
    // `sqlx::migrate!` embeds the migrations but cannot tell cargo about a new file on
    // stable Rust: without this, an incremental build kept the old list of migrations.
    println!("cargo:rerun-if-changed=migrations");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    assert!(
        !files.is_empty(),
        "no static assets under {}: the web pages would have no styles or scripts",
        root.display()
    );
    files.sort();
    let mut out = String::from("pub static STATICI: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        out.push_str(&format!("    ({rel:?}, include_bytes!({abs:?})),\n"));
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("statici.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            println!("cargo:rerun-if-changed={}", p.display());
            walk(root, &p, out);
        } else if p.extension().is_some_and(|x| x != "md") {
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, p.to_string_lossy().into_owned()));
        }
    }
}
