//! Live sinks (being written).
