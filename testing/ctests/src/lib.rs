//! This crate holds the tests of the tutorial's C programs in `c/` (tests/c_programs.rs): they
//! build the programs with `make -C c` and run each pair as real processes, checking what
//! crosses and that no kernel object or file is left behind. There is no code here.
