//! Embeds the built-in squads (`squads/*/squad.toml`) and prompts (`prompts/**/*.md`) in the
//! binary, so `squadron` works from any directory with no files beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("../..");
    let squads_dir = root.join("squads");
    let prompts_dir = root.join("prompts");
    println!("cargo:rerun-if-changed={}", squads_dir.display());
    println!("cargo:rerun-if-changed={}", prompts_dir.display());

    let mut code = String::from(
        "/// Built-in squads: (folder name, squad.toml text).\npub const SQUADS: &[(&str, &str)] = &[\n",
    );
    let mut manifests = Vec::new();
    files(&squads_dir, "toml", &mut manifests);
    for path in manifests
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "squad.toml"))
    {
        println!("cargo:rerun-if-changed={}", path.display());
        let folder = path
            .parent()
            .and_then(Path::file_name)
            .expect("squads/<id>/squad.toml");
        let _ = writeln!(
            code,
            "    ({:?}, include_str!({:?})),",
            folder.to_string_lossy(),
            path.canonicalize().expect("exists")
        );
    }
    code.push_str("];\n\n/// Built-in prompts: (path under prompts/, text).\npub const PROMPTS: &[(&str, &str)] = &[\n");
    let mut prompts = Vec::new();
    files(&prompts_dir, "md", &mut prompts);
    for path in &prompts {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path.strip_prefix(&prompts_dir).expect("under prompts");
        let _ = writeln!(
            code,
            "    ({:?}, include_str!({:?})),",
            rel.to_string_lossy(),
            path.canonicalize().expect("exists")
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it")).join("builtin.rs");
    fs::write(out, code).expect("write builtin.rs");
}
