//! Real two-broker test bed (TODO)
