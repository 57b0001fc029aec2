//! Turning a TOML span into the line an error names. Both the node file and
//! the cluster document report errors as file + key + line through this one
//! context; it never reads files itself.

use std::ops::Range;
use std::path::Path;

use crate::ConfigError;

/// The file being parsed and its text, so spans can be turned into lines.
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
}

impl Ctx<'_> {
    /// The 1-based line a span starts on.
    pub(crate) fn line_of(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text[..end].bytes().filter(|b| *b == b'\n').count() + 1
    }

    /// Deserialises the whole text; a syntax or shape error names its line
    /// and, for an unknown or missing field, the key.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            let message = e.message().to_string();
            let key = ["unknown field `", "missing field `"]
                .iter()
                .find_map(|p| message.strip_prefix(p))
                .and_then(|r| r.split('`').next())
                .unwrap_or_default()
                .to_string();
            ConfigError {
                file: self.file.into(),
                key,
                line: e.span().map(|s| self.line_of(s)).unwrap_or(0),
                message,
            }
        })
    }

    pub(crate) fn err(&self, key: &str, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.into(),
            key: key.into(),
            line: self.line_of(span),
            message: message.into(),
        }
    }
}

/// Reads a configuration file; the error names it. Returns the text and the
/// name errors will use for it.
pub(crate) fn read_config(path: &Path) -> Result<(String, String), ConfigError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text, file)),
        Err(e) => Err(ConfigError {
            file,
            key: String::new(),
            line: 0,
            message: format!("cannot read: {e}"),
        }),
    }
}
