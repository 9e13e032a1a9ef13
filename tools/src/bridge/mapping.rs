//! The notifier's event source mapping as template.yaml declares it
//! (`RealtimeNotifierFunction.Properties.Events.TableStream`), so the
//! bridge batches, filters and retries as the deployed mapping does.

use serde_yaml::Value;

use super::batches::RetryPolicy;
use super::filter::{Filters, Pattern};

pub const NOTIFIER_RESOURCE: &str = "RealtimeNotifierFunction";

#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub batch_size: i32,
    pub retry: RetryPolicy,
    /// With `ReportBatchItemFailures` the function's reply names failed
    /// records; without it Lambda ignores the reply.
    pub reports_item_failures: bool,
    pub filters: Filters,
}

impl Mapping {
    /// Reads the mapping from the template's resources; an error says what
    /// the bridge cannot honour.
    pub fn from_template(template: &Value) -> Result<Self, String> {
        let properties = &template["Resources"][NOTIFIER_RESOURCE]["Properties"]["Events"]["TableStream"]["Properties"];
        if properties.is_null() {
            return Err(format!("template.yaml has no {NOTIFIER_RESOURCE} with a TableStream event"));
        }
        if let Some(position) = properties["StartingPosition"].as_str().filter(|p| *p != "LATEST") {
            return Err(format!("StartingPosition {position}: the bridge starts at LATEST only"));
        }
        // Lambda's defaults where the template says nothing.
        let batch_size = properties["BatchSize"].as_i64().unwrap_or(100);
        let max_retries = match properties["MaximumRetryAttempts"].as_i64() {
            None | Some(-1) => None,
            Some(n) => Some(u32::try_from(n).map_err(|_| format!("MaximumRetryAttempts {n}"))?),
        };
        let bisect_on_function_error = properties["BisectBatchOnFunctionError"].as_bool().unwrap_or(false);
        let reports_item_failures = properties["FunctionResponseTypes"]
            .as_sequence()
            .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures"));
        let mut patterns = Vec::new();
        for filter in properties["FilterCriteria"]["Filters"].as_sequence().into_iter().flatten() {
            let text = filter["Pattern"].as_str().ok_or("a filter without a Pattern string")?;
            patterns.push(Pattern::parse(text).map_err(|error| format!("FilterCriteria: {error}"))?);
        }
        Ok(Self {
            batch_size: i32::try_from(batch_size).map_err(|_| format!("BatchSize {batch_size}"))?,
            retry: RetryPolicy { max_retries, bisect_on_function_error },
            reports_item_failures,
            filters: Filters(patterns),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(properties: &str) -> Result<Mapping, String> {
        let template = format!(
            "Resources:\n  {NOTIFIER_RESOURCE}:\n    Properties:\n      Events:\n        TableStream:\n          Properties:\n{}",
            properties.lines().map(|line| format!("            {line}\n")).collect::<String>()
        );
        Mapping::from_template(&serde_yaml::from_str(&template).unwrap())
    }

    #[test]
    fn the_repositorys_template_is_honoured() {
        let mapping = Mapping::from_template(&crate::template::template()).unwrap();
        assert_eq!(mapping.batch_size, 100);
        assert_eq!(mapping.retry, RetryPolicy { max_retries: Some(3), bisect_on_function_error: true });
        assert!(mapping.reports_item_failures);
        assert_eq!(mapping.filters.0.len(), 3, "new messages, written cursors, and moved read states in groups");
    }

    #[test]
    fn lambdas_defaults_fill_what_is_unsaid() {
        let mapping = mapping("Stream: !GetAtt T.StreamArn\nStartingPosition: LATEST").unwrap();
        assert_eq!(mapping.batch_size, 100);
        assert_eq!(mapping.retry, RetryPolicy { max_retries: None, bisect_on_function_error: false });
        assert!(!mapping.reports_item_failures);
        assert_eq!(mapping.filters, Filters::default());
    }

    #[test]
    fn what_the_bridge_cannot_honour_stops_it() {
        let error =
            mapping("FilterCriteria:\n  Filters:\n    - Pattern: '{\"eventName\": [{\"anything-but\": [\"X\"]}]}'");
        assert!(error.unwrap_err().contains("anything-but"));
        assert!(mapping("StartingPosition: TRIM_HORIZON").unwrap_err().contains("TRIM_HORIZON"));
        assert!(Mapping::from_template(&serde_yaml::from_str("Resources: {}").unwrap()).is_err());
    }
}
