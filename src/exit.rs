//! The outcome of a command, as the process's exit code. Every command
//! returns one; `main` turns it into the code, in one place.

/// What a run came to, most severe last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Nothing at or above the fail level (0).
    Clean,
    /// A finding at or above the fail level (1).
    Findings,
    /// A usage error, a config or baseline that does not read, a policy
    /// that does not load, or a file that could not be written (2).
    Usage,
    /// A bug, or standard output that could not be written (3).
    Internal,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::Usage => 2,
            Exit::Internal => 3,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(exit.code())
    }
}
