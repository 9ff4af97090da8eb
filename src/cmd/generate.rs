//! `mq completions` and `mq man`: shell completions and man pages generated from the
//! clap definitions of [`crate::cli`], so they never drift from the real flags.
//! The checked-in copies under `completions/` and `man/` are produced by
//! `cargo run -- completions --dir completions` and `cargo run -- man --dir man`.

use crate::cli::{CompletionsArgs, ManArgs, Shell};
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Every shell, in the order files are written.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::Powershell,
    Shell::Elvish,
];

/// The completion script for one shell.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut cmd = crate::cli::command();
    let mut out = Vec::new();
    match shell {
        Shell::Bash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "mq", &mut out)
        }
        Shell::Zsh => clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "mq", &mut out),
        Shell::Fish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "mq", &mut out)
        }
        Shell::Powershell => {
            clap_complete::generate(clap_complete::Shell::PowerShell, &mut cmd, "mq", &mut out)
        }
        Shell::Elvish => {
            clap_complete::generate(clap_complete::Shell::Elvish, &mut cmd, "mq", &mut out)
        }
    }
    out
}

/// The file name a completion script is installed under.
pub fn completion_file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "mq.bash",
        Shell::Zsh => "_mq",
        Shell::Fish => "mq.fish",
        Shell::Powershell => "_mq.ps1",
        Shell::Elvish => "mq.elv",
    }
}

/// Every man page: `mq.1`, then `mq-<sub>.1` for each subcommand (recursively,
/// `mq-carpark-gate.1` style), as (file name, roff text).
pub fn man_pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let cmd = crate::cli::command();
    let mut pages = Vec::new();
    collect_pages(&cmd, "mq", &mut pages)?;
    Ok(pages)
}

fn collect_pages(
    cmd: &clap::Command,
    name: &str,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> anyhow::Result<()> {
    // `command()` has built the tree: each subcommand's display name is already
    // `mq-<sub>` and its bin name `mq <sub>`.
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .context("cannot render a man page")?;
    pages.push((format!("{name}.1"), out));
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        collect_pages(sub, &format!("{name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}

/// `mq completions <shell> [--dir DIR]`.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<i32> {
    match (&args.dir, args.shell) {
        (Some(dir), shell) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let shells: Vec<Shell> = match shell {
                Some(s) => vec![s],
                None => SHELLS.to_vec(),
            };
            for s in shells {
                write_file(&dir.join(completion_file_name(s)), &completion_script(s))?;
            }
        }
        (None, Some(s)) => write_stdout(&completion_script(s))?,
        (None, None) => anyhow::bail!(
            "name a shell (bash, zsh, fish, powershell, elvish), or give --dir DIR for all of them"
        ),
    }
    Ok(0)
}

/// `mq man [--dir DIR]`.
pub fn man(args: ManArgs) -> anyhow::Result<i32> {
    let pages = man_pages()?;
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in &pages {
                write_file(&dir.join(name), text)?;
            }
        }
        None => {
            if let Some((_, text)) = pages.first() {
                write_stdout(text)?;
            }
        }
    }
    Ok(0)
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .context("cannot write to stdout")
}
