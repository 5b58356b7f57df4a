//! The lifecycle as a service between `http/` and `store/`: for a delivery
//! its proof has authenticated, it opens the write, reads the rows, decides
//! with the pure core (`connect::lifecycle`, `connect::forge_event`) and
//! writes through the store's primitives, in one transaction. The store only
//! reads and writes; the handlers only answer.

pub(crate) mod connect_event;
pub(crate) mod forge_event;
