//! The `herald` binary: parse arguments, call the library, print, exit.

mod cli;

/// Rendering allocates many short-lived strings and maps on both cores;
/// mimalloc handles that far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use herald::commands::{self, BuildOptions};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: cli::Cli) -> herald::Result<()> {
    let today = chrono::Local::now().date_naive();
    match args.command {
        cli::Command::Init { dir } => {
            let dir = if dir.is_absolute() {
                dir
            } else {
                args.root.join(dir)
            };
            let files = commands::init::init(&dir, today)?;
            println!(
                "Created a site in {} ({} files). Next: cd there and run `herald serve`.",
                dir.display(),
                files.len()
            );
        }
        cli::Command::New { title, section } => {
            let path = commands::new::new_entry(&args.root, &title, &section, today)?;
            println!(
                "Created {} (a draft: set draft = false to publish)",
                path.display()
            );
        }
        cli::Command::Build { build, output_dir } => {
            let mut opts = build_options(&args.root, &build);
            opts.output_dir = output_dir;
            let r = commands::build(&opts)?;
            println!(
                "Built {} pages in {} sections: {} files in {} ({} ms)",
                r.pages,
                r.sections,
                r.files,
                r.output_dir.display(),
                r.elapsed.as_millis()
            );
        }
        cli::Command::Check { build } => {
            let r = commands::check(&build_options(&args.root, &build))?;
            println!(
                "No problems: {} pages, {} sections, {} files would be written ({} ms)",
                r.pages,
                r.sections,
                r.files,
                r.elapsed.as_millis()
            );
        }
    }
    Ok(())
}

fn build_options(root: &std::path::Path, b: &cli::BuildArgs) -> BuildOptions {
    let mut o = BuildOptions::new(root);
    o.drafts = b.drafts;
    o.future = b.future;
    o.base_url = b.base_url.clone();
    o
}
