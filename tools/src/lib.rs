//! What the local tools share with the test suites: `template.yaml` read
//! as data, the table it defines created in DynamoDB Local with demo data,
//! the handlers called in-process as their Lambda binaries call them, and
//! a fault proxy in front of DynamoDB Local.

pub mod conflicts;
pub mod demo;
pub mod fault_proxy;
pub mod handlers;
pub mod stack;
pub mod table;
pub mod template;
