//! `tesser data`: generate, inspect, convert and download trade files.

pub mod convert;
pub mod download;
pub mod input;
pub mod inspect;
