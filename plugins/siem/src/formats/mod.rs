//! Export formats (being written).
