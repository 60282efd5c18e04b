//! Build script: regenerates include/lfq.h from src/ffi with cbindgen and gives the shared
//! library its SONAME.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi");
    // A hand-edited or deleted header is regenerated on the next build.
    println!("cargo:rerun-if-changed=include/lfq.h");
    // The SONAME carries the major version so that an incompatible 1.x can live beside 0.x.
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liblfq.so.{major}");

    // Loom model-checking builds compile the engine only; the header is not their business.
    if env::var_os("CARGO_CFG_LOOM").is_some() {
        return;
    }

    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cannot read cbindgen.toml: {e}"));
    // Parsing src/ffi alone (cbindgen follows its `mod` declarations) keeps engine items out of
    // the header and avoids running `cargo metadata` from inside the build.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed to generate include/lfq.h: {e}"));

    let mut header = Vec::new();
    bindings.write(&mut header);
    let path = root.join("include/lfq.h");
    // Rewriting an unchanged header would bump its mtime and rebuild every C dependant.
    if std::fs::read(&path).ok().as_deref() != Some(header.as_slice()) {
        std::fs::create_dir_all(root.join("include")).expect("cannot create include/");
        std::fs::write(&path, header)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
