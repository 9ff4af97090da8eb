//! The GitHub Actions workflows cannot run here, so this checks what a typo would
//! otherwise hide until the first release: `.github/workflows/release.yml` runs on
//! `v*` tags only, builds exactly the five release targets, each on a runner of its
//! own platform, packs the promised files (which must exist) and publishes them with
//! SHA-256 sums; `.github/workflows/ci.yml` runs `cargo test` on Linux, Windows and
//! macOS; every action a step uses is pinned to a version tag or a commit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// The targets the README offers downloads for.
const RELEASE_TARGETS: [&str; 5] = [
    "x86_64-pc-windows-msvc",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
];

/// What each release archive holds beside the binary.
const ARCHIVE_CONTENTS: [&str; 6] = [
    "completions",
    "man",
    "README.md",
    "CHANGELOG.md",
    "LICENSE-MIT",
    "LICENSE-APACHE",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The one YAML document of a workflow file.
fn load(name: &str) -> Yaml {
    let path = root().join(".github/workflows").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut docs = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{name}: one YAML document");
    docs.remove(0)
}

fn str_of<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {y:?}"))
}

fn vec_of<'a>(y: &'a Yaml, what: &str) -> &'a [Yaml] {
    y.as_vec()
        .unwrap_or_else(|| panic!("{what} is not a list: {y:?}"))
}

/// Every job of a workflow, by name.
fn jobs(doc: &Yaml) -> Vec<(&str, &Yaml)> {
    doc["jobs"]
        .as_hash()
        .expect("jobs")
        .iter()
        .map(|(k, v)| (str_of(k, "a job name"), v))
        .collect()
}

/// The `run:` scripts of a job's steps, joined.
fn scripts(job: &Yaml) -> String {
    vec_of(&job["steps"], "steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `owner/repo@ref` with a ref that is a version tag (`v4`, `v2.1.0`) or a full
/// commit SHA: a branch (`main`, `master`, `stable`) moves under us.
fn is_pinned(uses: &str) -> bool {
    let Some((action, reference)) = uses.split_once('@') else {
        return false;
    };
    let named = action.split('/').count() >= 2 && !action.starts_with('.');
    let sha = reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit());
    let tag = reference.strip_prefix('v').is_some_and(|v| {
        let parts: Vec<&str> = v.split('.').collect();
        parts.len() <= 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    });
    named && (sha || tag)
}

/// Each step of each job: it runs a script or uses a pinned action.
fn assert_steps_pinned(name: &str, doc: &Yaml) {
    for (job_name, job) in jobs(doc) {
        let steps = vec_of(&job["steps"], "steps");
        assert!(!steps.is_empty(), "{name}: job {job_name} has no steps");
        for step in steps {
            match step["uses"].as_str() {
                Some(uses) => assert!(
                    is_pinned(uses),
                    "{name}: job {job_name} uses {uses:?}, not pinned to a version tag or a commit"
                ),
                None => assert!(
                    step["run"].as_str().is_some(),
                    "{name}: job {job_name} has a step that neither runs nor uses: {step:?}"
                ),
            }
        }
    }
}

#[test]
fn pinned_means_a_version_tag_or_a_commit() {
    assert!(is_pinned("actions/checkout@v4"));
    assert!(is_pinned("softprops/action-gh-release@v2.2.1"));
    assert!(is_pinned(
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
    ));
    for loose in [
        "actions/checkout",
        "actions/checkout@main",
        "dtolnay/rust-toolchain@stable",
        "actions/checkout@v4-beta",
        "actions/checkout@11bd719",
        "./local-action@v1",
    ] {
        assert!(!is_pinned(loose), "{loose}");
    }
}

#[test]
fn release_runs_on_version_tags_only() {
    let doc = load("release.yml");
    let on = doc["on"]
        .as_hash()
        .expect("release.yml: `on:` is a mapping");
    assert_eq!(on.len(), 1, "release.yml: only `push` triggers it: {on:?}");
    let push = &doc["on"]["push"];
    let tags: Vec<&str> = vec_of(&push["tags"], "on.push.tags")
        .iter()
        .map(|t| str_of(t, "a tag pattern"))
        .collect();
    assert_eq!(tags, ["v*"]);
    assert!(
        push["branches"].is_badvalue(),
        "release.yml: no branch triggers a release"
    );
}

#[test]
fn release_builds_exactly_the_five_targets_each_on_its_platform() {
    let doc = load("release.yml");
    let build = &doc["jobs"]["build"];
    assert_eq!(str_of(&build["runs-on"], "runs-on"), "${{ matrix.os }}");
    let include = vec_of(&build["strategy"]["matrix"]["include"], "matrix.include");
    let targets: Vec<&str> = include
        .iter()
        .map(|e| str_of(&e["target"], "matrix target"))
        .collect();
    let unique: BTreeSet<&str> = targets.iter().copied().collect();
    assert_eq!(unique.len(), targets.len(), "a target twice: {targets:?}");
    assert_eq!(unique, RELEASE_TARGETS.into_iter().collect());

    for entry in include {
        let target = str_of(&entry["target"], "target");
        let os = str_of(&entry["os"], "os");
        let archive = str_of(&entry["archive"], "archive");
        let (runner, kind) = if target.contains("windows") {
            ("windows-", "zip")
        } else if target.contains("apple-darwin") {
            ("macos-", "tar.gz")
        } else {
            ("ubuntu-", "tar.gz")
        };
        assert!(os.starts_with(runner), "{target} builds on {os}");
        assert_eq!(archive, kind, "{target}");
        // The musl targets need a C cross toolchain for ring: `cross` brings it.
        let cross = entry["cross"].as_bool().unwrap_or(false);
        assert_eq!(cross, target.contains("linux-musl"), "{target}: cross");
    }
    let script = scripts(build);
    assert!(
        script.contains("build --release --locked --target"),
        "{script}"
    );
}

#[test]
fn release_archives_hold_the_promised_files_and_sums_are_published() {
    let doc = load("release.yml");
    let contents: Vec<&str> = str_of(&doc["env"]["ARCHIVE_CONTENTS"], "env.ARCHIVE_CONTENTS")
        .split_whitespace()
        .collect();
    assert_eq!(contents, ARCHIVE_CONTENTS);
    for item in contents {
        assert!(
            root().join(item).exists(),
            "{item} is packed in every release archive but missing from the repository"
        );
    }
    let build = scripts(&doc["jobs"]["build"]);
    // mq-v0.1.0-x86_64-pc-windows-msvc.zip, as the README names them.
    assert!(
        build.contains(r#"name="mq-${GITHUB_REF_NAME}-${{ matrix.target }}""#),
        "{build}"
    );
    assert!(build.contains("for item in $ARCHIVE_CONTENTS"), "{build}");
    assert!(build.contains("7z a -tzip"), "Windows archives are .zip");
    assert!(build.contains("tar -czf"), "other archives are .tar.gz");

    let publish = &doc["jobs"]["publish"];
    assert_eq!(str_of(&publish["needs"], "publish.needs"), "build");
    assert_eq!(
        str_of(&publish["permissions"]["contents"], "permissions"),
        "write"
    );
    assert!(scripts(publish).contains("sha256sum -- mq-* > SHA256SUMS"));
    let release = vec_of(&publish["steps"], "steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("softprops/action-gh-release@"))
        })
        .expect("a step publishes the GitHub release");
    assert_eq!(str_of(&release["with"]["files"], "files"), "dist/*");
}

#[test]
fn release_cross_builds_get_the_commit() {
    // The cross container has no git: the commit reaches build.rs through these.
    let cross = std::fs::read_to_string(root().join("Cross.toml")).expect("Cross.toml");
    for var in ["MQ_BUILD_COMMIT", "MQ_BUILD_DATE"] {
        assert!(
            cross.contains(&format!("\"{var}\"")),
            "Cross.toml passes {var}"
        );
        assert!(
            scripts(&load("release.yml")["jobs"]["build"]).contains(&format!("{var}=")),
            "release.yml sets {var}"
        );
    }
}

#[test]
fn ci_tests_on_linux_windows_and_macos() {
    let doc = load("ci.yml");
    let test = &doc["jobs"]["test"];
    let oses: BTreeSet<&str> = vec_of(&test["strategy"]["matrix"]["os"], "matrix.os")
        .iter()
        .map(|o| str_of(o, "os"))
        .collect();
    assert_eq!(
        oses,
        ["ubuntu-latest", "windows-latest", "macos-latest"]
            .into_iter()
            .collect()
    );
    assert_eq!(str_of(&test["runs-on"], "runs-on"), "${{ matrix.os }}");
    assert!(scripts(test).contains("cargo test --locked"));
    // Before the checkout, or Windows gets CRLF files that differ from what mq writes.
    let steps = vec_of(&test["steps"], "steps");
    let autocrlf = steps
        .iter()
        .position(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("git config --global core.autocrlf false"))
        })
        .expect("ci.yml: the test job turns core.autocrlf off");
    let checkout = steps
        .iter()
        .position(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .expect("ci.yml: the test job checks out");
    assert!(
        autocrlf < checkout,
        "core.autocrlf is turned off before the checkout"
    );
    assert!(
        jobs(&doc)
            .iter()
            .any(|(_, job)| scripts(job).contains(".ci/run")),
        "ci.yml runs .ci/run"
    );
}

#[test]
fn every_action_is_pinned() {
    for name in ["release.yml", "ci.yml"] {
        assert_steps_pinned(name, &load(name));
    }
}

#[test]
fn only_these_workflows_exist() {
    // A new workflow file gets its checks here too.
    let dir: &Path = &root().join(".github/workflows");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect(".github/workflows")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ci.yml", "release.yml"]);
}

#[test]
fn readme_offers_each_release_archive_and_the_crate() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let install = readme
        .split("\n## ")
        .find(|s| s.starts_with("Install\n"))
        .expect("README.md has an Install section");
    for target in RELEASE_TARGETS {
        let ext = if target.contains("windows") {
            "zip"
        } else {
            "tar.gz"
        };
        let archive = format!("mq-vX.Y.Z-{target}.{ext}");
        assert!(install.contains(&archive), "README Install: {archive}");
    }
    let cargo_install = format!("cargo install --locked {}", env!("CARGO_PKG_NAME"));
    assert!(
        install.contains(&cargo_install),
        "README Install: {cargo_install}"
    );
}
