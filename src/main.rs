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
    no_huge_pages();
    let args = cli::Cli::parse();
    let result = run(args);
    // Cache files still being written are finished, not left half-made.
    herald::atomic_file::wait_for_background();
    match result {
        Ok(()) => exit_now(),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Turns transparent huge pages off for this process: with them the kernel
/// zeroes 2 MB at each first touch, and after a few seconds of idle (the
/// usual case: a writer saves, then builds) a one-post rebuild at 10,000
/// pages took 0.15 s instead of 0.08 s, and a full build at 100,000 pages
/// 6–7 s instead of 5.1 s, all of it in system time. mimalloc is built
/// without asking for them (its `no_thp` feature): it used to, before
/// `main` could say no, and the first 2 MB it touched cost 3–4 ms of every
/// run. This covers kernels that give them unasked (`enabled = always`).
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: `prctl(PR_SET_THP_DISABLE)` only sets a flag of this process;
    // it fails harmlessly on a kernel without it.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// `mi_option_purge_delay` in mimalloc.h: the crate's bindings do not
/// name it (a test below checks it is the option with its default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to hand freed memory back to the kernel. By
/// default it does so a second after the memory is freed, on whichever
/// thread next calls it: in `herald serve`, after each full rebuild freed
/// the last one's site, that was often the file watcher's thread, which
/// then spent 30–60 ms in `madvise` before passing on the next save (at
/// 10,000 posts, one save in two or three took 90–115 ms from save to new
/// HTML instead of 55). The dev server reuses that memory at its next
/// rebuild anyway; it keeps what its largest rebuild needed.
fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only records the value of an option.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// Ends a successful run at once. Everything is written by now (the caches
/// included, waited for above); what is left is freeing memory, and
/// mimalloc's exit handler collects every heap first: 6 ms of an 80 ms
/// rebuild at 10,000 pages. `_exit` skips it, as compilers skip freeing
/// their trees; the kernel takes the memory back in one go.
fn exit_now() -> ExitCode {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    #[cfg(unix)]
    // SAFETY: `_exit` ends the process without running anything of it;
    // nothing is left to run: every file is closed and stdout flushed.
    unsafe {
        libc::_exit(0)
    }
    #[cfg(not(unix))]
    ExitCode::SUCCESS
}

/// Readies a process that makes one build and ends: the main thread is
/// one of rayon's two workers instead of a third thread that hands the
/// parallel steps to them and waits (each hand-over woke a worker, and the
/// waiting cost a thread), and what the build is done with is left for the
/// exit to free. Not for `herald serve`: its main thread waits for events
/// and would take no part in a rebuild's parallel work.
fn one_build_process() {
    // Fails only if the pool was made already: then it is the default one.
    let _ = rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global();
    herald::free::process_ends_after_build();
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
            one_build_process();
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
        cli::Command::Syndicate {
            dry_run,
            backfill,
            networks,
        } => {
            use commands::syndicate as syn;
            let mut opts = syn::SyndicateOptions::new(&args.root);
            opts.dry_run = dry_run;
            opts.backfill = backfill;
            opts.networks = networks;
            // Test hook: die right after a send, before recording it.
            if std::env::var_os("HERALD_TEST_CRASH_AFTER_SEND").is_some() {
                opts.crash_after_send = Some(syn::Crash::Abort);
            }
            let report = syn::syndicate(&opts)?;
            print!("{}", syn::format_messages(&report));
            print!("{}", syn::format_summary(&report));
            if report.failed() {
                return Err(herald::Error::Other(
                    "some entries were not cross-posted: see the table above".into(),
                ));
            }
        }
        cli::Command::Report {
            since,
            until,
            format,
            output,
        } => {
            use commands::report as rep;
            let output = output.map(|o| {
                if o.is_absolute() {
                    o
                } else {
                    args.root.join(o)
                }
            });
            let run = rep::report(&rep::ReportOptions {
                root: args.root.clone(),
                period: herald::report::Period { since, until },
                format,
                output,
            })?;
            for w in &run.warnings {
                eprintln!("{w}");
            }
            print!("{}", run.stdout);
            if let Some(path) = &run.written {
                eprintln!("Report written to {}", path.display());
            }
        }
        cli::Command::Comments { all } => {
            let mut opts = commands::comments::FetchOptions::new(&args.root);
            opts.all = all;
            let report = commands::comments::comments(&opts)?;
            print!("{}", commands::comments::format_report(&report));
            if !report.failed.is_empty() {
                return Err(herald::Error::Other(
                    "some threads could not be fetched (their previous data is kept): see above"
                        .into(),
                ));
            }
        }
        cli::Command::Check { build } => {
            one_build_process();
            let r = commands::check(&build_options(&args.root, &build))?;
            println!(
                "No problems: {} pages, {} sections, {} files would be written ({} ms)",
                r.pages,
                r.sections,
                r.files,
                r.elapsed.as_millis()
            );
        }
        cli::Command::Serve {
            bind,
            port,
            no_drafts,
            no_future,
            base_url,
        } => {
            keep_freed_memory();
            let mut opts = commands::serve::ServeOptions::new(&args.root);
            opts.bind = bind;
            opts.port = port;
            opts.drafts = !no_drafts;
            opts.future = !no_future;
            opts.base_url = base_url;
            let (stopper, inbox) = commands::serve::channel();
            commands::serve::stop_on_ctrl_c(stopper)?;
            commands::serve::serve(&opts, inbox, &mut |event| {
                let (text, is_error) = commands::serve::describe(&event);
                if is_error {
                    eprintln!("{text}");
                } else {
                    println!("{text}");
                }
            })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_kept_freed_memory_sets() {
        // SAFETY: reading and setting an option of the allocator.
        let get = || unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        // mimalloc 3's default purge delay, in milliseconds: its
        // neighbours' defaults are 1 and 0, so a renumbering shows here
        // (unless the environment sets the option).
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(), 1000);
        }
        keep_freed_memory();
        assert_eq!(get(), -1);
    }
}
