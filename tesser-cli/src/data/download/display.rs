//! What `tesser data download` shows: on a terminal a progress bar (bytes of
//! the current file, files done of total) with finished files listed above
//! it; elsewhere one line per file finished.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress goes.
pub struct Display {
    /// The bar, on a terminal only.
    bar: Option<ProgressBar>,
    /// Days in the run.
    total: usize,
}

impl Display {
    /// A bar when standard error is a terminal, plain lines otherwise.
    pub fn for_stderr(total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style = ProgressStyle::with_template(
                "{prefix} {msg} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            // indicatif redraws at most this often, however many chunks arrive.
            let bar =
                ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(10))
                    .with_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Self { bar, total }
    }

    /// A file starts (or resumes at `done` bytes), the `index`-th of the run
    /// counting from 0.
    pub fn start_file(&self, name: &str, index: usize, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("[{index}/{} files]", self.total));
            bar.set_message(name.to_owned());
            // The size is known once the server answers.
            bar.unset_length();
            bar.set_position(done);
            bar.reset_eta();
        }
    }

    /// The current file's full size is known.
    pub fn set_size(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(bytes);
        }
    }

    /// The current file starts over from byte 0.
    pub fn restart(&self) {
        if let Some(bar) = &self.bar {
            bar.set_position(0);
            bar.reset_eta();
        }
    }

    /// `bytes` more of the current file arrived.
    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// One line about a finished (or failed, or skipped) file: above the bar
    /// on a terminal, on its own elsewhere.
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `bytes` in a short human form (`1.5 MiB`).
pub fn human_bytes(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}
