//! Identifiers Sanad puts in payment files. All are at most 35 characters (ISO `Max35Text`)
//! and built deterministically, so a re-run of the same release produces the same files.
//!
//! * EndToEndId `ASD-YYYYMM-PPPPPPPPP-I`: cycle, payment id (at least 9 digits, zero-padded),
//!   issue number (1 for the first issue, 2, 3… for re-issues). The beneficiary's bank echoes
//!   it back in pain.002 and camt.054, which is how returns are matched to payments. Distinct
//!   (cycle, payment id, issue) give distinct strings (digits only, fixed separators), so a
//!   re-issue never collides with the original.
//! * MsgId `ASD-YYYYMM-PROVIDER-Rnnn-Fnnnnn`: cycle, provider code, release number within the
//!   cycle for that provider, file number within the release. Banks refuse duplicate MsgIds.

use sanad_domain::Month;

/// Largest payment id that keeps an EndToEndId within 35 characters (15 digits).
pub const MAX_PAYMENT_ID: u64 = 999_999_999_999_999;
/// Provider codes are at most 12 characters so that MsgIds stay within 35.
pub const MAX_PROVIDER_LEN: usize = 12;
pub const MAX_RELEASE_SEQ: u16 = 999;
pub const MAX_FILES_PER_RELEASE: u32 = 99_999;

/// What an EndToEndId written by Sanad encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndToEndRef {
    pub cycle: Month,
    pub payment_id: u64,
    pub issue: u16,
}

impl EndToEndRef {
    /// The EndToEndId string; `None` when the id or issue is out of range.
    pub fn to_id(self) -> Option<String> {
        (self.payment_id <= MAX_PAYMENT_ID && self.issue >= 1).then(|| {
            format!(
                "ASD-{:04}{:02}-{:09}-{}",
                self.cycle.year(),
                self.cycle.month(),
                self.payment_id,
                self.issue
            )
        })
    }

    /// Decode an EndToEndId found in a bank return. `None` for ids Sanad did not write.
    pub fn parse(id: &str) -> Option<Self> {
        let mut parts = id.strip_prefix("ASD-")?.split('-');
        let (cycle, pid, issue) = (parts.next()?, parts.next()?, parts.next()?);
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if parts.next().is_some()
            || cycle.len() != 6
            || !digits(cycle)
            || !digits(pid)
            || pid.len() < 9
            || !digits(issue)
        {
            return None;
        }
        let cycle = Month::new(cycle[..4].parse().ok()?, cycle[4..].parse().ok()?)?;
        let r = EndToEndRef {
            cycle,
            payment_id: pid.parse().ok()?,
            issue: issue.parse().ok()?,
        };
        // Only the canonical spelling decodes, so parse and to_id are inverse.
        (r.to_id().as_deref() == Some(id)).then_some(r)
    }
}

/// The MsgId of file `file_seq` (1-based) of a release. Callers validate ranges first.
pub fn msg_id(cycle: Month, provider: &str, release_seq: u16, file_seq: u32) -> String {
    format!(
        "ASD-{:04}{:02}-{provider}-R{release_seq:03}-F{file_seq:05}",
        cycle.year(),
        cycle.month()
    )
}

/// What a MsgId written by Sanad encodes: pain.002 group statuses name our MsgId
/// (`OrgnlMsgId`), so this says which release and file a whole-file rejection is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MsgRef {
    pub cycle: Month,
    pub provider: String,
    pub release_seq: u16,
    pub file_seq: u32,
}

impl MsgRef {
    pub fn parse(id: &str) -> Option<Self> {
        let rest = id.strip_prefix("ASD-")?;
        let (cycle, rest) = rest.split_once('-')?;
        let (provider, rest) = rest.split_once("-R")?;
        let (release, file) = rest.split_once("-F")?;
        if cycle.len() != 6 || !cycle.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let cycle = Month::new(cycle[..4].parse().ok()?, cycle[4..].parse().ok()?)?;
        let r = MsgRef {
            cycle,
            provider: provider.to_string(),
            release_seq: release.parse().ok()?,
            file_seq: file.parse().ok()?,
        };
        // Only the canonical spelling decodes.
        (valid_provider_code(provider)
            && msg_id(r.cycle, provider, r.release_seq, r.file_seq) == id)
            .then_some(r)
    }
}

/// Provider codes go into MsgIds and file names: short, upper-case letters and digits.
pub fn valid_provider_code(p: &str) -> bool {
    (1..=MAX_PROVIDER_LEN).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    #[test]
    fn end_to_end_round_trip_and_length() {
        let r = EndToEndRef {
            cycle: m("2026-11"),
            payment_id: 1234,
            issue: 1,
        };
        assert_eq!(r.to_id().unwrap(), "ASD-202611-000001234-1");
        assert_eq!(EndToEndRef::parse("ASD-202611-000001234-1"), Some(r));
        let longest = EndToEndRef {
            cycle: m("2026-11"),
            payment_id: MAX_PAYMENT_ID,
            issue: u16::MAX,
        };
        assert!(longest.to_id().unwrap().len() <= 35);
        assert!(
            EndToEndRef {
                payment_id: MAX_PAYMENT_ID + 1,
                ..r
            }
            .to_id()
            .is_none()
        );
        assert!(EndToEndRef { issue: 0, ..r }.to_id().is_none());
        for bad in [
            "ASD-202611-1234-1",
            "ASD-202613-000001234-1",
            "X-202611-000001234-1",
            "ASD-202611-000001234-01",
            "NOTPROVIDED",
        ] {
            assert_eq!(EndToEndRef::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn msg_id_fits_35() {
        let id = msg_id(
            m("2026-11"),
            "ABCDEFGHIJKL",
            MAX_RELEASE_SEQ,
            MAX_FILES_PER_RELEASE,
        );
        assert_eq!(id, "ASD-202611-ABCDEFGHIJKL-R999-F99999");
        assert_eq!(id.len(), 35);
        let r = MsgRef::parse(&id).unwrap();
        assert_eq!(
            (r.provider.as_str(), r.release_seq, r.file_seq, r.cycle),
            ("ABCDEFGHIJKL", 999, 99_999, m("2026-11"))
        );
        assert!(MsgRef::parse("ASD-202611-BANK-R1-F00001").is_none());
        assert!(MsgRef::parse("MsgId-001").is_none());
        assert!(
            valid_provider_code("WAFACASH")
                && !valid_provider_code("wafa")
                && !valid_provider_code("ABCDEFGHIJKLM")
        );
    }
}
