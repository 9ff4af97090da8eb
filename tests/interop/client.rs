//! Interop: see the module doc of each test.
