//! What `init` makes the code packages install: Debian's library layout when the upstream build
//! installs shared libraries (a runtime package named after the SONAME, a `-dev` package; Debian
//! Policy 8.1 and 8.4), from CMake's `SOVERSION` or libtool's `-version-info`, and
//! `debian/<package>.install` for a tree without a build system, so no package is empty.
//! The upstream trees are written here: CMake, Automake and libtool input as their manuals
//! describe it (CMake `add_library`/`set_target_properties`/`install`, Automake
//! `lib_LTLIBRARIES`, libtool "Updating library version information").

use std::path::Path;

use crate::init::{
    build, fill_model_copyright, init_warnings, licensed_upstream, lintian_on_full_build, names,
    read, tags_beyond_the_itp_placeholder,
};
use crate::support::{assert_lintian_clean, unpack_deb, write};
use crate::upstreams::init;

/// Apache-2.0 (base-files' copy), so debian/copyright names a licence lintian knows.
fn write_apache_license(root: &Path) {
    let text = read(Path::new("/usr/share/common-licenses"), "Apache-2.0");
    write(
        root,
        "LICENSE",
        format!("Copyright 2021 Example Authors\n\n{text}"),
    );
}

/// A CMake project whose shared library `foo` has `SOVERSION 1`, installs its header and a
/// pkg-config file, and commits an ONNX model: `init` drafts `libfoo1` (libs, Multi-Arch:
/// same, the `.so.*` files) and `libfoo-dev` (libdevel, depending on `libfoo1 (=
/// ${binary:Version})`, header, `.so` link, pkg-config file); the full build (source and
/// binaries) passes `lintian --fail-on error,warning` but for the ITP placeholder. Running
/// `init` again keeps an edited `.install` file and a removed package removed.
#[test]
fn a_cmake_shared_library_gets_a_runtime_and_a_dev_package() {
    let text = read(Path::new("/usr/share/common-licenses"), "Apache-2.0");
    let t = licensed_upstream("foolib", "Apache-2.0", "LICENSE", &text);
    let root = &t.root;
    std::fs::remove_file(root.join("Makefile")).unwrap();
    write(
        root,
        "CMakeLists.txt",
        "cmake_minimum_required(VERSION 3.13)\n\
         project(foolib VERSION 1.4.0 LANGUAGES C)\n\
         include(GNUInstallDirs)\n\
         set(FOO_ABI 1)\n\
         add_library(foo SHARED foo.c)\n\
         set_target_properties(foo PROPERTIES\n  VERSION ${PROJECT_VERSION}\n  \
         SOVERSION ${FOO_ABI}\n  PUBLIC_HEADER foo.h)\n\
         install(TARGETS foo\n  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}\n  \
         PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})\n\
         configure_file(foo.pc.in foo.pc @ONLY)\n\
         install(FILES ${CMAKE_CURRENT_BINARY_DIR}/foo.pc\n  \
         DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)\n",
    );
    write(root, "foo.h", "int foo_hello(void);\n");
    write(
        root,
        "foo.c",
        "#include <stdio.h>\n#include \"foo.h\"\n\
         int foo_hello(void) { return puts(\"hello from foo\"); }\n",
    );
    write(
        root,
        "foo.pc.in",
        "prefix=@CMAKE_INSTALL_PREFIX@\nlibdir=@CMAKE_INSTALL_FULL_LIBDIR@\n\
         includedir=@CMAKE_INSTALL_FULL_INCLUDEDIR@\n\n\
         Name: foo\nDescription: says hello\nVersion: @PROJECT_VERSION@\n\
         Libs: -L${libdir} -lfoo\nCflags: -I${includedir}\n",
    );
    init(root);
    fill_model_copyright(root);
    let stdout = init(root);
    assert!(
        stdout.contains("binary packages: libfoo1, libfoo-dev\n"),
        "{stdout}"
    );
    let control = read(root, "debian/control");
    assert!(
        control.contains(
            "Package: libfoo1\nSection: libs\nArchitecture: any\nMulti-Arch: same\n\
             Depends: ${shlibs:Depends}, ${misc:Depends}\n"
        ),
        "{control}"
    );
    assert!(
        control.contains(
            "Package: libfoo-dev\nSection: libdevel\nArchitecture: any\nMulti-Arch: same\n\
             Depends: libfoo1 (= ${binary:Version}), ${misc:Depends}\n"
        ),
        "{control}"
    );
    assert!(
        read(root, "debian/libfoo1.install")
            .ends_with("\nusr/lib/${DEB_HOST_MULTIARCH}/lib*.so.*\n")
    );
    let dev_install = read(root, "debian/libfoo-dev.install");
    assert!(
        dev_install.ends_with(
            "\nusr/include\nusr/lib/${DEB_HOST_MULTIARCH}/lib*.so\n\
             usr/lib/${DEB_HOST_MULTIARCH}/pkgconfig\n"
        ),
        "{dev_install}"
    );
    assert!(!read(root, "debian/rules").contains("--destdir"));

    let lintian = lintian_on_full_build(root, "foolib", "1.4.0");
    let tags = tags_beyond_the_itp_placeholder(&lintian);
    assert!(tags.is_empty(), "{lintian}");
    let debs = crate::support::built_debs(root);
    assert_eq!(names(&debs), vec!["libfoo-dev", "libfoo1"]);
    let runtime = unpack_deb(&debs["libfoo1"]);
    let multiarch = String::from_utf8(
        std::process::Command::new("dpkg-architecture")
            .arg("-qDEB_HOST_MULTIARCH")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let libdir = format!("usr/lib/{}", multiarch.trim());
    assert!(runtime.path().join(&libdir).join("libfoo.so.1").exists());
    assert!(!runtime.path().join(&libdir).join("libfoo.so").exists());
    let dev = unpack_deb(&debs["libfoo-dev"]);
    assert!(dev.path().join(&libdir).join("libfoo.so").is_symlink());
    assert!(dev.path().join("usr/include/foo.h").is_file());
    assert!(dev.path().join(&libdir).join("pkgconfig/foo.pc").is_file());

    // Lossless: an edited install file is kept; a package removed from debian/control stays
    // removed, and gets no install file.
    let edited = format!("{dev_install}usr/share/doc/foo-extra\n");
    write(root, "debian/libfoo-dev.install", &edited);
    let stdout = init(root);
    assert!(
        stdout.contains("left debian/libfoo-dev.install alone: edited since dh-mlmodel wrote it"),
        "{stdout}"
    );
    assert_eq!(read(root, "debian/libfoo-dev.install"), edited);
    let control = read(root, "debian/control");
    let without_dev = control
        .split("\n\n")
        .filter(|p| !p.starts_with("Package: libfoo-dev"))
        .collect::<Vec<_>>()
        .join("\n\n");
    write(root, "debian/control", &without_dev);
    std::fs::remove_file(root.join("debian/libfoo-dev.install")).unwrap();
    let stdout = init(root);
    assert!(
        stdout.contains("left out of debian/control: Package: libfoo-dev"),
        "{stdout}"
    );
    assert!(!read(root, "debian/control").contains("libfoo-dev"));
    assert!(!root.join("debian/libfoo-dev.install").exists());
}

/// An Automake library with `-version-info 5:2:3`: libtool's SONAME major is current − age
/// = 2, so the runtime package is `libbar2`, and the built library says so (lintian's
/// `package-name-doesnt-match-sonames` compares them). libtool's `.la` file is removed and the
/// static archive goes to `libbar-dev`, so dh_missing misses nothing.
#[test]
fn an_automake_library_gets_its_soname_from_version_info() {
    let t = crate::upstreams::tree("bar-0.5");
    let root = &t.root;
    write(
        root,
        "configure.ac",
        "AC_INIT([bar], [0.5])\nAM_INIT_AUTOMAKE([foreign])\nAC_PROG_CC\nLT_INIT\n\
         AC_CONFIG_FILES([Makefile])\nAC_OUTPUT\n",
    );
    write(
        root,
        "Makefile.am",
        "lib_LTLIBRARIES = libbar.la\nlibbar_la_SOURCES = bar.c\n\
         libbar_la_LDFLAGS = -version-info 5:2:3\ninclude_HEADERS = bar.h\n",
    );
    write(root, "bar.h", "int bar_hello(void);\n");
    write(
        root,
        "bar.c",
        "#include <stdio.h>\n#include \"bar.h\"\nint bar_hello(void) { return puts(\"bar\"); }\n",
    );
    write(root, "models/net.onnx", crate::fixtures::onnx());
    write_apache_license(root);
    init(root);
    fill_model_copyright(root);
    let stdout = init(root);
    assert!(
        stdout.contains("binary packages: libbar2, libbar-dev\n"),
        "{stdout}"
    );
    let rules = read(root, "debian/rules");
    assert!(
        rules.contains("\tfind debian/tmp -name '*.la' -delete\n"),
        "{rules}"
    );
    assert!(read(root, "debian/libbar-dev.install").contains("/lib*.a\n"));
    let debs = build(root);
    assert_eq!(names(&debs), vec!["libbar-dev", "libbar2"]);
    let runtime = unpack_deb(&debs["libbar2"]);
    let found: Vec<String> = walkdir::WalkDir::new(runtime.path())
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("libbar.so"))
        .collect();
    assert!(found.contains(&"libbar.so.2".to_string()), "{found:?}");
    let lintian = assert_lintian_clean(&[debs["libbar2"].clone()]);
    assert!(
        !lintian.contains("package-name-doesnt-match-sonames"),
        "{lintian}"
    );
}

/// A training repository without a build system (nanoGPT's shape: scripts at the top, a
/// configuration directory, data preparation scripts, a model from the hub): `init` drafts
/// `debian/<package>.install` with the scripts and the directories holding Python files, into
/// /usr/share/<source>/, so the package is not empty (lintian's `empty-binary-package`).
/// Documentation directories stay out.
#[test]
fn a_tree_without_a_build_system_installs_its_scripts() {
    let t = crate::upstreams::tree("trainer-0.1");
    let root = &t.root;
    write(
        root,
        "model.py",
        "from transformers import AutoModel\n\ndef load():\n    return AutoModel.from_pretrained(\"gpt2\")\n",
    );
    write(root, "train.py", "import model\nmodel.load()\n");
    write(root, "config/train_small.py", "batch_size = 4\n");
    write(root, "data/tiny/prepare.py", "print('prepare')\n");
    write(root, "data/tiny/readme.md", "A tiny data set.\n");
    write(root, "docs/conf.py", "project = 'trainer'\n");
    write_apache_license(root);
    let warnings = init_warnings(root);
    let install = read(root, "debian/trainer.install");
    assert!(
        install.ends_with(
            "\n*.py usr/share/trainer\nconfig usr/share/trainer\ndata usr/share/trainer\n"
        ),
        "{install}\n{warnings}"
    );
    let debs = build(root);
    assert_eq!(names(&debs), vec!["trainer"]);
    let files = unpack_deb(&debs["trainer"]);
    for path in [
        "usr/share/trainer/train.py",
        "usr/share/trainer/model.py",
        "usr/share/trainer/config/train_small.py",
        "usr/share/trainer/data/tiny/prepare.py",
        "usr/share/trainer/data/tiny/readme.md",
    ] {
        assert!(files.path().join(path).is_file(), "{path} not installed");
    }
    assert!(!files.path().join("usr/share/trainer/docs").exists());
    let lintian = assert_lintian_clean(&[debs["trainer"].clone()]);
    assert!(!lintian.contains("empty-binary-package"), "{lintian}");
}
