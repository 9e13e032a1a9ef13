//! What the local tools share with the test suites: `template.yaml` read
//! as data, the table it defines created in DynamoDB Local with demo data,
//! the handlers called in-process as their Lambda binaries call them, a
//! fault proxy in front of DynamoDB Local, and the dev-only WebSocket
//! bridge that stands in for API Gateway and the stream's event source
//! mapping.

pub mod bridge;
pub mod conflicts;
pub mod demo;
pub mod fault_proxy;
pub mod handlers;
pub mod stack;
pub mod table;
pub mod template;
