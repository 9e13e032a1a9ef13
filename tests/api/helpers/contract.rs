//! `openapi.yaml` as a contract the tests hold responses to: every response
//! the end-to-end suite receives must be documented for its route and
//! status, and its body must match the documented schema.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use messenger_tools::template::repo_root;

pub struct Contract {
    document: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// The contract, read once per test binary.
pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let text = std::fs::read_to_string(repo_root().join("openapi.yaml")).expect("openapi.yaml is readable");
        let document: Value = serde_yaml::from_str(&text).expect("openapi.yaml is YAML");
        Contract { document, validators: Mutex::new(HashMap::new()) }
    })
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Contract {
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Every (METHOD, path) the document describes.
    pub fn operations(&self) -> BTreeSet<(String, String)> {
        let paths = self.document["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object().expect("path item").keys().map(move |method| (method.to_uppercase(), path.clone()))
            })
            .collect()
    }

    /// Checks one response against the document.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
        let method = method.to_lowercase();
        let operation = &self.document["paths"][path][&method];
        if operation.is_null() {
            return Err(format!("{method} {path} is not documented"));
        }
        let mut pointer = format!("/paths/{}/{method}/responses/{status}", escape(path));
        let mut response = self
            .document
            .pointer(&pointer)
            .ok_or_else(|| format!("{method} {path} answered {status}, which the document does not list: {body}"))?;
        if let Some(reference) = response["$ref"].as_str() {
            pointer = reference.trim_start_matches('#').to_owned();
            response = self.document.pointer(&pointer).ok_or_else(|| format!("dangling {reference}"))?;
        }
        if response["content"]["application/json"]["schema"].is_null() {
            return Err(format!("{method} {path} {status} documents no JSON body"));
        }
        let schema_pointer = format!("#{pointer}/content/application~1json/schema");
        match self.contradictions(&schema_pointer, body)? {
            None => Ok(()),
            Some(errors) => Err(format!("{method} {path} {status}: body {body} contradicts the document: {errors}")),
        }
    }

    /// Checks a frame the WebSocket API sent against `ServerFrame`.
    pub fn check_frame(&self, frame: &Value) -> Result<(), String> {
        match self.contradictions("#/components/schemas/ServerFrame", frame)? {
            None => Ok(()),
            Some(errors) => Err(format!("frame {frame} contradicts the document's ServerFrame: {errors}")),
        }
    }

    /// How `value` contradicts the schema at `schema_pointer`, if it does.
    fn contradictions(&self, schema_pointer: &str, value: &Value) -> Result<Option<String>, String> {
        let validator = self.validator(schema_pointer)?;
        let errors: Vec<String> = validator.iter_errors(value).map(|error| error.to_string()).collect();
        Ok((!errors.is_empty()).then(|| errors.join("; ")))
    }

    fn validator(&self, schema_pointer: &str) -> Result<Arc<jsonschema::Validator>, String> {
        let mut cache = self.validators.lock().expect("validator cache");
        if let Some(validator) = cache.get(schema_pointer) {
            return Ok(validator.clone());
        }
        // The whole document is the schema's root, so its internal
        // references resolve; the root `$ref` picks the response's schema.
        let mut root = self.document.clone();
        root["$ref"] = Value::String(schema_pointer.to_owned());
        let validator =
            Arc::new(jsonschema::draft202012::new(&root).map_err(|error| format!("{schema_pointer}: {error}"))?);
        cache.insert(schema_pointer.to_owned(), validator.clone());
        Ok(validator)
    }
}
