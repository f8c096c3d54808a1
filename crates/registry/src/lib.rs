//! The registry of households and persons as fed by the RSU and the RNP.

pub mod feed;
pub mod import;

pub use feed::{FeedHeader, FeedHousehold, FeedMember};
