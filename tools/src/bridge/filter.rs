//! The event source mapping's filter: the EventBridge-pattern subset the
//! template uses, applied to a stream record as Lambda delivers it.
//!
//! Lambda discards a record that no filter admits before it batches. A
//! pattern is an object whose leaves are arrays of alternatives: exact
//! values, or `{"prefix": "..."}`. Any other operator is refused when the
//! bridge starts, so a template that needs more never passes everything
//! unfiltered without a word.

use serde_json::{Map, Value};

/// One filter's pattern, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Every named field of the record must match its pattern.
    Fields(Vec<(String, Pattern)>),
    /// The record's value must match one of these.
    AnyOf(Vec<Alternative>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Alternative {
    Exact(Value),
    Prefix(String),
}

/// The filters of one mapping: a record passes when any admits it (no
/// filters at all admit everything, as without FilterCriteria).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters(pub Vec<Pattern>);

impl Filters {
    pub fn admits(&self, record: &Value) -> bool {
        self.0.is_empty() || self.0.iter().any(|pattern| pattern.matches(record))
    }
}

impl Pattern {
    /// Parses one filter's `Pattern` string.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| format!("pattern {text} is not JSON: {error}"))?;
        match value {
            Value::Object(fields) => Self::fields(&fields),
            _ => Err(format!("pattern {text} is not a JSON object")),
        }
    }

    fn fields(fields: &Map<String, Value>) -> Result<Self, String> {
        let mut parsed = Vec::new();
        for (name, value) in fields {
            let pattern = match value {
                Value::Object(nested) => Self::fields(nested)?,
                Value::Array(alternatives) => {
                    Self::AnyOf(alternatives.iter().map(|a| Alternative::parse(name, a)).collect::<Result<_, _>>()?)
                }
                other => return Err(format!("field {name}: {other} is neither an object nor an array")),
            };
            parsed.push((name.clone(), pattern));
        }
        Ok(Self::Fields(parsed))
    }

    pub fn matches(&self, value: &Value) -> bool {
        match self {
            Self::Fields(fields) => fields.iter().all(|(name, pattern)| match value.get(name) {
                Some(field) => pattern.matches(field),
                None => false,
            }),
            // EventBridge matches an array in the record when any element does.
            Self::AnyOf(alternatives) => match value {
                Value::Array(elements) => elements.iter().any(|e| alternatives.iter().any(|a| a.matches(e))),
                _ => alternatives.iter().any(|a| a.matches(value)),
            },
        }
    }
}

impl Alternative {
    fn parse(field: &str, value: &Value) -> Result<Self, String> {
        match value {
            Value::Object(operator) => match operator.iter().next() {
                Some((name, Value::String(prefix))) if name == "prefix" && operator.len() == 1 => {
                    Ok(Self::Prefix(prefix.clone()))
                }
                _ => Err(format!(
                    "field {field}: the bridge implements exact values and {{\"prefix\": \"...\"}} only, not {value}"
                )),
            },
            Value::Array(_) => Err(format!("field {field}: nested array {value}")),
            exact => Ok(Self::Exact(exact.clone())),
        }
    }

    fn matches(&self, value: &Value) -> bool {
        match self {
            Self::Exact(exact) => exact == value,
            Self::Prefix(prefix) => value.as_str().is_some_and(|text| text.starts_with(prefix.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(event_name: &str, sk: &str) -> Value {
        json!({"eventName": event_name, "dynamodb": {"Keys": {"pk": {"S": "USER#bob"}, "sk": {"S": sk}}}})
    }

    /// The filters of template.yaml itself.
    #[test]
    fn the_templates_filters_admit_new_messages_and_moved_read_states_only() {
        let template = crate::template::template();
        let filters = super::super::mapping::Mapping::from_template(&template).unwrap().filters;
        assert!(filters.admits(&record("INSERT", "MSG#0001#alice")));
        assert!(!filters.admits(&record("MODIFY", "MSG#0001#alice")));
        assert!(!filters.admits(&record("REMOVE", "MSG#0001#alice")));
        assert!(filters.admits(&record("INSERT", "CURSOR#alice")));
        assert!(filters.admits(&record("MODIFY", "CURSOR#alice")));
        assert!(!filters.admits(&record("REMOVE", "CURSOR#alice")));
        assert!(!filters.admits(&record("MODIFY", "PAIR#alice")));
        // A member's read state in a group: a fetch moves it, a join and a
        // leave write or delete it (no receipt); a group's head is not one.
        assert!(filters.admits(&record("MODIFY", "GROUP#0123")));
        assert!(!filters.admits(&record("INSERT", "GROUP#0123")));
        assert!(!filters.admits(&record("REMOVE", "GROUP#0123")));
        assert!(!filters.admits(&record("MODIFY", "GROUP")));
        assert!(!filters.admits(&record("INSERT", "CONN#abc")));
        assert!(!filters.admits(&record("INSERT", "msg#lowercase")));
        assert!(!filters.admits(&json!({"eventName": "INSERT", "dynamodb": {"Keys": {}}})));
        assert!(!filters.admits(&json!({"eventName": "INSERT"})));
    }

    #[test]
    fn any_filter_admits_and_none_admit_all() {
        let filters = Filters(vec![
            Pattern::parse(r#"{"eventName": ["REMOVE"]}"#).unwrap(),
            Pattern::parse(r#"{"eventName": ["INSERT", "MODIFY"]}"#).unwrap(),
        ]);
        assert!(filters.admits(&json!({"eventName": "MODIFY"})));
        assert!(!filters.admits(&json!({"eventName": "OTHER"})));
        assert!(Filters::default().admits(&json!({"anything": 1})));
    }

    #[test]
    fn exact_values_keep_their_type_and_arrays_match_by_element() {
        let pattern = Pattern::parse(r#"{"n": [1, true, null], "tags": ["a"]}"#).unwrap();
        assert!(pattern.matches(&json!({"n": 1, "tags": ["b", "a"]})));
        assert!(pattern.matches(&json!({"n": null, "tags": "a"})));
        assert!(!pattern.matches(&json!({"n": "1", "tags": "a"})));
        assert!(!pattern.matches(&json!({"n": 1, "tags": ["b"]})));
    }

    #[test]
    fn operators_it_does_not_implement_are_refused_by_name() {
        for (pattern, named) in [
            (r#"{"eventName": [{"anything-but": ["REMOVE"]}]}"#, "anything-but"),
            (r#"{"size": [{"numeric": [">", 0]}]}"#, "numeric"),
            (r#"{"sk": [{"exists": true}]}"#, "exists"),
            (r#"{"sk": [{"prefix": "A", "suffix": "B"}]}"#, "suffix"),
            (r#"{"sk": [{"prefix": 1}]}"#, "prefix"),
        ] {
            let error = Pattern::parse(pattern).unwrap_err();
            assert!(error.contains(named), "{error}");
        }
        assert!(Pattern::parse(r#"{"eventName": "INSERT"}"#).is_err());
        assert!(Pattern::parse(r#"["INSERT"]"#).is_err());
        assert!(Pattern::parse("{").is_err());
    }
}
