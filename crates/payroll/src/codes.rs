//! Components as stable codes. `sanad_rules::Component` only serialises, and payroll values are
//! stored and read back, so this module reads it back from its code (`child_allowance`, …).

use std::collections::BTreeMap;

use sanad_domain::Money;
use sanad_rules::Component;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Every component, monthly first, in `Component`'s order.
pub const ALL_COMPONENTS: [Component; 7] = Component::ALL;

/// The component with this code (`Component::code`).
pub fn component_from_code(code: &str) -> Option<Component> {
    ALL_COMPONENTS.into_iter().find(|c| c.code() == code)
}

/// `#[serde(with = "component_code")]` for a `Component` field.
pub mod component_code {
    use super::*;

    pub fn serialize<S: Serializer>(c: &Component, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(c.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Component, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        component_from_code(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not a component")))
    }

    /// The same for an `Option<Component>` field.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(c: &Option<Component>, s: S) -> Result<S::Ok, S::Error> {
            c.map(Component::code).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Component>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => component_from_code(&s)
                    .map(Some)
                    .ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not a component"))),
            }
        }
    }
}

/// An amount per component (zero when absent), serialised as `{"child_allowance": centimes}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByComponent(BTreeMap<Component, Money>);

impl ByComponent {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, c: Component) -> Money {
        self.0.get(&c).copied().unwrap_or(Money::ZERO)
    }

    pub fn add(&mut self, c: Component, m: Money) {
        *self.0.entry(c).or_default() += m;
    }

    pub fn set(&mut self, c: Component, m: Money) {
        self.0.insert(c, m);
    }

    /// Non-zero amounts in component order.
    pub fn iter(&self) -> impl Iterator<Item = (Component, Money)> + '_ {
        self.0
            .iter()
            .filter(|(_, m)| **m != Money::ZERO)
            .map(|(c, m)| (*c, *m))
    }

    pub fn total(&self) -> Money {
        self.0.values().copied().sum()
    }

    /// Components present in either, in order.
    pub fn keys_with<'a>(&'a self, other: &'a ByComponent) -> impl Iterator<Item = Component> + 'a {
        ALL_COMPONENTS
            .into_iter()
            .filter(|c| self.0.contains_key(c) || other.0.contains_key(c))
    }
}

impl FromIterator<(Component, Money)> for ByComponent {
    fn from_iter<I: IntoIterator<Item = (Component, Money)>>(iter: I) -> Self {
        let mut b = ByComponent::new();
        for (c, m) in iter {
            b.add(c, m);
        }
        b
    }
}

impl Serialize for ByComponent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(c, m)| (c.code(), m)))
    }
}

impl<'de> Deserialize<'de> for ByComponent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, Money>::deserialize(d)?;
        raw.into_iter()
            .map(|(k, m)| {
                component_from_code(&k)
                    .map(|c| (c, m))
                    .ok_or_else(|| serde::de::Error::custom(format!("'{k}' is not a component")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in ALL_COMPONENTS {
            assert_eq!(component_from_code(c.code()), Some(c));
        }
        assert_eq!(component_from_code("bonus"), None);
    }

    #[test]
    fn by_component_sums_and_skips_zeroes() {
        let mut b: ByComponent = [
            (Component::FlatRate, Money::from_mad(5)),
            (Component::FlatRate, Money::from_mad(7)),
        ]
        .into_iter()
        .collect();
        b.set(Component::BirthGrant, Money::ZERO);
        assert_eq!(b.get(Component::FlatRate), Money::from_mad(12));
        assert_eq!(b.get(Component::ChildAllowance), Money::ZERO);
        assert_eq!(b.iter().count(), 1);
        assert_eq!(b.total(), Money::from_mad(12));
    }
}
