//! What the local tools share with the test suites: `template.yaml` read
//! as data, the table it defines created in DynamoDB Local with demo data,
//! and the handlers called in-process as their Lambda binaries call them.

pub mod demo;
pub mod handlers;
pub mod stack;
pub mod table;
pub mod template;
