//! Validation against the official schemas with xmllint (libxml2). The WSDLs embed their
//! message schemas: they are extracted once per test run, with the namespace declarations
//! of `wsdl:definitions` copied onto each `xsd:schema` and relative imports made absolute.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Extracted {
    _dir: tempfile::TempDir,
    files: Vec<(String, String, PathBuf)>, // (wsdl file, target namespace, schema path)
}

fn extracted() -> &'static Extracted {
    static E: OnceLock<Extracted> = OnceLock::new();
    E.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for wsdl in [
            "NodoPerPa.wsdl",
            "PaPerNodo.wsdl",
            "PaPerNodoPagamentoPsp.wsdl",
        ] {
            let text = std::fs::read_to_string(repo().join("wsdl").join(wsdl)).unwrap();
            let defs_start = text.find("<wsdl:definitions").unwrap();
            let defs_tag = &text[defs_start..defs_start + text[defs_start..].find('>').unwrap()];
            let decls: Vec<&str> = defs_tag
                .split_whitespace()
                .filter(|a| a.starts_with("xmlns:"))
                .collect();
            let mut rest = &text[..];
            let mut i = 0;
            while let Some(s) = rest.find("<xsd:schema") {
                let e = rest[s..].find("</xsd:schema>").unwrap() + s + "</xsd:schema>".len();
                let mut schema = rest[s..e].to_owned();
                let tag_end = schema.find('>').unwrap();
                let tag = schema[..tag_end].to_owned();
                let tns = tag
                    .split("targetNamespace=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned();
                let extra: String = decls
                    .iter()
                    .filter(|d| !tag.contains(d.split('=').next().unwrap()))
                    .map(|d| format!(" {}", d.trim_end_matches('>')))
                    .collect();
                schema.insert_str(tag_end, &extra);
                let schema = schema.replace(
                    "schemaLocation=\"../xsd/",
                    &format!("schemaLocation=\"{}/xsd/", repo().display()),
                );
                let path = dir.path().join(format!("{wsdl}.{i}.xsd"));
                std::fs::write(
                    &path,
                    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{schema}"),
                )
                .unwrap();
                files.push((wsdl.to_owned(), tns, path));
                rest = &rest[e..];
                i += 1;
            }
        }
        Extracted { _dir: dir, files }
    })
}

/// The schema of `namespace` embedded in `wsdl`.
pub fn wsdl_schema(wsdl: &str, namespace: &str) -> PathBuf {
    extracted()
        .files
        .iter()
        .find(|(w, ns, _)| w == wsdl && ns == namespace)
        .map(|(_, _, p)| p.clone())
        .unwrap_or_else(|| panic!("no schema {namespace} in {wsdl}"))
}

pub fn xsd(name: &str) -> PathBuf {
    repo().join("xsd").join(name)
}

pub fn new_model_xsd() -> PathBuf {
    repo().join("wsdl/new-model/wsdl/xsd/paForNode.xsd")
}

/// Validates every document against `schema` in one xmllint run; panics with xmllint's
/// report (and the offending document) on the first invalid one.
pub fn assert_valid(schema: &Path, docs: &[String]) {
    assert!(!docs.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let p = dir.path().join(format!("doc{i}.xml"));
        std::fs::write(&p, d).unwrap();
        paths.push(p);
    }
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema)
        .args(&paths)
        .output()
        .expect("xmllint is installed (tests/run-all.sh installs libxml2-utils)");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first_bad = err
            .lines()
            .find(|l| !l.ends_with(" validates"))
            .unwrap_or("");
        let idx: Option<usize> = first_bad
            .split("doc")
            .nth(1)
            .and_then(|s| s.split('.').next())
            .and_then(|n| n.parse().ok());
        panic!(
            "schema {} refused a document:\n{}\n--- document ---\n{}",
            schema.display(),
            err.lines()
                .filter(|l| !l.ends_with(" validates"))
                .take(10)
                .collect::<Vec<_>>()
                .join("\n"),
            idx.map_or("?", |i| docs[i].as_str())
        );
    }
}
