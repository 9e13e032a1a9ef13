//! Compiles the built web client (`web/dist`, made by `scripts/web.sh`)
//! into the binary: a table of every file, with a gzipped copy of the ones
//! that shrink, so the function needs nothing but itself (`sam build`
//! packages only the binary).

use std::io::Write;
use std::path::{Path, PathBuf};

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    // A directory: cargo looks at every file in it.
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("index.html").is_file() {
        eprintln!(
            "web/dist is missing: the `web` function embeds the built web client. Build it first with \
             `bash scripts/web.sh` (npm install and npm run build in web/; make dev, make test, make lint and \
             make sam do this themselves)."
        );
        std::process::exit(1);
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let mut files = Vec::new();
    collect(&dist, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (index, file) in files.iter().enumerate() {
        let path = file.strip_prefix(&dist).expect("under dist").to_str().expect("a UTF-8 path").replace('\\', "/");
        let body = std::fs::read(file).expect("readable");
        let gzipped = shrinks(&path).then(|| {
            let copy = out.join(format!("{index}.gz"));
            std::fs::write(&copy, gzip(&body)).expect("OUT_DIR is writable");
            format!("Some(include_bytes!({:?}))", copy.display().to_string())
        });
        table += &format!(
            "    shared::web::Asset {{ path: {path:?}, body: include_bytes!({:?}), gzipped: {} }},\n",
            file.canonicalize().expect("exists").display().to_string(),
            gzipped.unwrap_or_else(|| "None".to_owned()),
        );
    }
    table += "]\n";
    std::fs::write(out.join("assets.rs"), table).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("web/dist is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// Text formats; images and fonts are compressed already.
fn shrinks(path: &str) -> bool {
    [".html", ".js", ".css", ".yaml", ".json", ".svg", ".txt"].iter().any(|extension| path.ends_with(extension))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}
