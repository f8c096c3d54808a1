//! National computations over the registry held in memory ([`sanad_store::Population`]).

pub mod simulate;

pub use simulate::{SimulationReport, simulate};
