//! `template.yaml` read as data, so the local table and the tests follow
//! what is deployed.

use std::path::PathBuf;

use serde_yaml::Value;

/// The repository's root: this crate sits one level below it.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn template() -> Value {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml is readable");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// The template's resources, by logical name.
pub fn resources(template: &Value) -> impl Iterator<Item = (&str, &Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources is a mapping")
        .iter()
        .map(|(name, resource)| (name.as_str().expect("resource names are strings"), resource))
}

/// The `Properties` of the template's one DynamoDB table.
pub fn table_properties() -> Value {
    let template = template();
    let tables: Vec<&Value> =
        resources(&template).filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table").map(|(_, r)| r).collect();
    assert_eq!(tables.len(), 1, "the template defines one table");
    tables[0]["Properties"].clone()
}
