//! ISO 20022 payment files: see ARCHITECTURE.md.
