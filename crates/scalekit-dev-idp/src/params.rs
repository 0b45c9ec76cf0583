//! Request parameters (query string or form body) as OAuth reads them: a parameter given twice is
//! an error (RFC 6749 §3.1, §3.2), and an empty value counts as absent.

use std::collections::HashMap;

pub struct Params(HashMap<String, String>);

/// The name of a parameter that was sent more than once.
#[derive(Debug)]
pub struct Repeated(pub String);

impl Params {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Params, Repeated> {
        let mut map = HashMap::new();
        for (name, value) in pairs {
            if map.insert(name.clone(), value).is_some() {
                return Err(Repeated(name));
            }
        }
        Ok(Params(map))
    }

    pub fn from_form(body: &[u8]) -> Result<Params, Repeated> {
        Params::from_pairs(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// All parameters, for carrying an authorization request through the picker form.
    pub fn pairs(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn repeated_parameter_is_refused_and_empty_counts_as_absent() {
        assert!(Params::from_form(b"a=1&a=2").is_err());
        let p = Params::from_form(b"a=1&b=&c=x+y").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(
            p.get("c"),
            Some("x y"),
            "spaces as + (Python SDK) decode like %20 (Node SDK)"
        );
    }
}
