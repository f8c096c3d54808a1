//! Impact evaluation: see ARCHITECTURE.md.
