//! The maker-checker life of a payroll cycle: Draft → Prepared (user A) → Approved (user B ≠ A)
//! → Released → Locked. Each transition is a pure function from one state to the next or to a
//! refusal. Replaying a transition already made, with the same user and inputs, returns the
//! state unchanged, so a retried request is harmless.

use std::fmt;

use sanad_domain::Month;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::PayrollError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Prepared,
    Approved,
    Released,
    Locked,
}

/// FNV-1a 64 of a payroll's content (`Payroll::digest`): equal digests, same money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(pub u64);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// As 16 hex digits: a JSON number would lose the low bits in JavaScript.
impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        u64::from_str_radix(&s, 16)
            .map(Digest)
            .map_err(|_| serde::de::Error::custom(format!("'{s}' is not a digest")))
    }
}

/// A cycle's state and who moved it there. Fields are read-only: only the transitions (or
/// deserialisation, which checks the same rules) make a `Cycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCycle")]
pub struct Cycle {
    month: Month,
    status: Status,
    /// Digest of the payroll as prepared; approval and release must name the same.
    inputs: Option<Digest>,
    prepared_by: Option<String>,
    approved_by: Option<String>,
    released_by: Option<String>,
    locked_by: Option<String>,
}

#[derive(Deserialize)]
struct RawCycle {
    month: Month,
    status: Status,
    inputs: Option<Digest>,
    prepared_by: Option<String>,
    approved_by: Option<String>,
    released_by: Option<String>,
    locked_by: Option<String>,
}

impl TryFrom<RawCycle> for Cycle {
    type Error = String;
    /// A stored cycle is accepted only if the transitions could have produced it.
    fn try_from(r: RawCycle) -> Result<Self, String> {
        let at = |s: Status| r.status >= s;
        let consistent = r.inputs.is_some() == at(Status::Prepared)
            && r.prepared_by.is_some() == at(Status::Prepared)
            && r.approved_by.is_some() == at(Status::Approved)
            && r.released_by.is_some() == at(Status::Released)
            && r.locked_by.is_some() == at(Status::Locked)
            && (r.approved_by.is_none() || r.approved_by != r.prepared_by);
        if !consistent {
            return Err(format!(
                "cycle {}: its users do not fit status {:?}",
                r.month, r.status
            ));
        }
        let RawCycle {
            month,
            status,
            inputs,
            prepared_by,
            approved_by,
            released_by,
            locked_by,
        } = r;
        Ok(Cycle {
            month,
            status,
            inputs,
            prepared_by,
            approved_by,
            released_by,
            locked_by,
        })
    }
}

impl Cycle {
    pub fn month(&self) -> Month {
        self.month
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn inputs(&self) -> Option<Digest> {
        self.inputs
    }
    pub fn prepared_by(&self) -> Option<&str> {
        self.prepared_by.as_deref()
    }
    pub fn approved_by(&self) -> Option<&str> {
        self.approved_by.as_deref()
    }
    pub fn released_by(&self) -> Option<&str> {
        self.released_by.as_deref()
    }
    pub fn locked_by(&self) -> Option<&str> {
        self.locked_by.as_deref()
    }

    pub fn new(month: Month) -> Cycle {
        Cycle {
            month,
            status: Status::Draft,
            inputs: None,
            prepared_by: None,
            approved_by: None,
            released_by: None,
            locked_by: None,
        }
    }

    /// Draft → Prepared by `user` for payroll `inputs`. Replayed with the same inputs: unchanged.
    /// Other inputs on a prepared or approved cycle: refused until it is re-opened.
    pub fn prepare(&self, user: &str, inputs: Digest) -> Result<Cycle, PayrollError> {
        match self.status {
            Status::Draft => Ok(Cycle {
                status: Status::Prepared,
                inputs: Some(inputs),
                prepared_by: Some(user.to_owned()),
                ..self.clone()
            }),
            _ if self.inputs == Some(inputs) => Ok(self.clone()),
            Status::Prepared | Status::Approved => Err(self.inputs_changed(inputs)),
            Status::Released | Status::Locked => Err(PayrollError::Frozen(self.status)),
        }
    }

    /// Prepared → Approved by a `user` other than the preparer, for the inputs prepared.
    pub fn approve(&self, user: &str, inputs: Digest) -> Result<Cycle, PayrollError> {
        if self.status > Status::Prepared
            && self.approved_by.as_deref() == Some(user)
            && self.inputs == Some(inputs)
        {
            return Ok(self.clone());
        }
        match self.status {
            Status::Draft | Status::Approved => Err(PayrollError::IllegalTransition {
                from: self.status,
                action: "approve",
            }),
            Status::Released | Status::Locked => Err(PayrollError::Frozen(self.status)),
            Status::Prepared if self.inputs != Some(inputs) => Err(self.inputs_changed(inputs)),
            Status::Prepared if self.prepared_by.as_deref() == Some(user) => {
                Err(PayrollError::SelfApproval {
                    user: user.to_owned(),
                })
            }
            Status::Prepared => Ok(Cycle {
                status: Status::Approved,
                approved_by: Some(user.to_owned()),
                ..self.clone()
            }),
        }
    }

    /// Approved → Released (payment files may be sent) for the inputs approved.
    pub fn release(&self, user: &str, inputs: Digest) -> Result<Cycle, PayrollError> {
        match self.status {
            Status::Draft | Status::Prepared => Err(PayrollError::IllegalTransition {
                from: self.status,
                action: "release",
            }),
            Status::Released | Status::Locked
                if self.released_by.as_deref() == Some(user) && self.inputs == Some(inputs) =>
            {
                Ok(self.clone())
            }
            Status::Released | Status::Locked => Err(PayrollError::Frozen(self.status)),
            Status::Approved if self.inputs != Some(inputs) => Err(self.inputs_changed(inputs)),
            Status::Approved => Ok(Cycle {
                status: Status::Released,
                released_by: Some(user.to_owned()),
                ..self.clone()
            }),
        }
    }

    /// Released → Locked: the cycle is closed for good.
    pub fn lock(&self, user: &str) -> Result<Cycle, PayrollError> {
        match self.status {
            Status::Released => Ok(Cycle {
                status: Status::Locked,
                locked_by: Some(user.to_owned()),
                ..self.clone()
            }),
            Status::Locked if self.locked_by.as_deref() == Some(user) => Ok(self.clone()),
            Status::Locked => Err(PayrollError::Frozen(self.status)),
            _ => Err(PayrollError::IllegalTransition {
                from: self.status,
                action: "lock",
            }),
        }
    }

    /// Prepared or Approved → Draft, to prepare again with other inputs. Nothing sent yet.
    pub fn reopen(&self) -> Result<Cycle, PayrollError> {
        match self.status {
            Status::Draft => Ok(self.clone()),
            Status::Prepared | Status::Approved => Ok(Cycle::new(self.month)),
            Status::Released | Status::Locked => Err(PayrollError::Frozen(self.status)),
        }
    }

    fn inputs_changed(&self, got: Digest) -> PayrollError {
        let expected = self
            .inputs
            .map(|d| d.to_string())
            .unwrap_or_else(|| "none".into());
        PayrollError::InputsChanged {
            state: self.status,
            expected,
            got: got.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: Digest = Digest(0x1111);
    const D2: Digest = Digest(0x2222);

    fn draft() -> Cycle {
        Cycle::new("2026-03".parse().unwrap())
    }

    #[test]
    fn the_happy_path_needs_two_people() {
        let c = draft().prepare("amina", D1).unwrap();
        assert_eq!(
            c.approve("amina", D1),
            Err(PayrollError::SelfApproval {
                user: "amina".into()
            })
        );
        let c = c.approve("youssef", D1).unwrap();
        let c = c.release("youssef", D1).unwrap();
        let c = c.lock("amina").unwrap();
        assert_eq!(c.status, Status::Locked);
        assert_eq!(
            (c.prepared_by.as_deref(), c.approved_by.as_deref()),
            (Some("amina"), Some("youssef"))
        );
    }

    #[test]
    fn out_of_order_transitions_are_refused() {
        let d = draft();
        assert!(matches!(
            d.approve("b", D1),
            Err(PayrollError::IllegalTransition {
                from: Status::Draft,
                ..
            })
        ));
        assert!(matches!(
            d.release("b", D1),
            Err(PayrollError::IllegalTransition { .. })
        ));
        let p = d.prepare("a", D1).unwrap();
        assert!(matches!(
            p.release("b", D1),
            Err(PayrollError::IllegalTransition {
                from: Status::Prepared,
                ..
            })
        ));
        assert!(matches!(
            p.lock("b"),
            Err(PayrollError::IllegalTransition { .. })
        ));
        assert!(
            matches!(p.approve("b", D2), Err(PayrollError::InputsChanged { .. })),
            "approving other inputs than prepared"
        );
    }

    #[test]
    fn replays_are_no_ops_and_changes_need_a_reopen() {
        let p = draft().prepare("a", D1).unwrap();
        assert_eq!(p.prepare("a", D1).unwrap(), p);
        assert_eq!(
            p.prepare("c", D1).unwrap(),
            p,
            "same inputs: the original preparer stays"
        );
        assert!(matches!(
            p.prepare("a", D2),
            Err(PayrollError::InputsChanged { .. })
        ));
        let again = p.reopen().unwrap().prepare("a", D2).unwrap();
        assert_eq!((again.status, again.inputs), (Status::Prepared, Some(D2)));
        let a = p.approve("b", D1).unwrap();
        assert_eq!(a.approve("b", D1).unwrap(), a);
        assert!(matches!(
            a.approve("c", D1),
            Err(PayrollError::IllegalTransition { .. })
        ));
        let r = a.release("b", D1).unwrap();
        assert_eq!(r.release("b", D1).unwrap(), r);
        assert_eq!(r.prepare("a", D1).unwrap(), r);
    }

    #[test]
    fn nothing_changes_after_release() {
        let r = draft()
            .prepare("a", D1)
            .unwrap()
            .approve("b", D1)
            .unwrap()
            .release("b", D1)
            .unwrap();
        assert_eq!(
            r.prepare("a", D2),
            Err(PayrollError::Frozen(Status::Released))
        );
        assert_eq!(r.reopen(), Err(PayrollError::Frozen(Status::Released)));
        assert_eq!(
            r.approve("c", D1),
            Err(PayrollError::Frozen(Status::Released))
        );
        let l = r.lock("a").unwrap();
        assert_eq!(l.lock("a").unwrap(), l);
        assert_eq!(l.lock("z"), Err(PayrollError::Frozen(Status::Locked)));
        assert_eq!(l.reopen(), Err(PayrollError::Frozen(Status::Locked)));
        assert_eq!(
            l.release("b", D2),
            Err(PayrollError::Frozen(Status::Locked))
        );
    }
}
