//! Who may do what. Roles follow ANSS's organisation; each permission is granted to the
//! fewest roles that need it (law 09-08: least privilege). Region or antenna scope is
//! separate: it says *where*, the role says *what*.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    AntennaAgent,
    AntennaSupervisor,
    AppealsOfficer,
    PaymentOfficer,
    PaymentApprover,
    MeAnalyst,
    Auditor,
    Administrator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Search households and open their pages (personal data).
    HouseholdRead,
    /// See national ID numbers (CNIE, IDCS) unmasked.
    NationalIds,
    /// Aggregates: counts, statistics, simulations.
    Aggregates,
    /// Read rule sets and compute entitlements from supplied data.
    RulesRead,
    /// Propose a new rule set.
    RulesPropose,
    /// Approve a rule set proposed by someone else.
    RulesApprove,
    /// Create users, change roles and scopes, issue API tokens.
    UsersManage,
    /// Browse, filter and export the audit log.
    AuditRead,
    /// See payroll cycles, their totals and the reconciliation with the banks (aggregates).
    PayrollRead,
    /// Prepare a payroll (maker) and release an approved one.
    PayrollPrepare,
    /// Approve a payroll prepared by someone else (checker).
    PayrollApprove,
    /// Take an application on a household's behalf (at the antenna or from the citizen portal).
    ApplicationsIntake,
    /// See the notification outbox of the households in scope, and queue a dead message again.
    Outbox,
    /// Pilot (issue 7): follow households as a social worker — caseload, case plans, visit
    /// notes, referrals, enrolment into measures. Case notes are personal data: no analyst.
    CasesManage,
    /// Report SMS delivery (the gateway's callback, through an API token with the
    /// `notify:delivery` scope only). Changes a message's delivery status, nothing else.
    DeliveryReport,
    /// Pilot (issue 7): register an evaluation design and draw its assignment (aggregates:
    /// counts by arm; no household is named).
    DesignsManage,
    /// Pilot (issue 7): load the measures catalogue and the antenna rollout plan.
    PilotConfigure,
    /// Pilot (issue 7): move a case or a whole caseload from one social worker to another.
    CasesReassign,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::AntennaAgent,
        Role::AntennaSupervisor,
        Role::AppealsOfficer,
        Role::PaymentOfficer,
        Role::PaymentApprover,
        Role::MeAnalyst,
        Role::Auditor,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::AntennaAgent => "antenna_agent",
            Role::AntennaSupervisor => "antenna_supervisor",
            Role::AppealsOfficer => "appeals_officer",
            Role::PaymentOfficer => "payment_officer",
            Role::PaymentApprover => "payment_approver",
            Role::MeAnalyst => "me_analyst",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("'{s}' is not a role (one of {})", names.join(", "))
            })
    }

    /// The policy, in one place. Administrators manage the system but do not read
    /// households; the auditor reads everything except unmasked IDs and changes nothing.
    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match p {
            HouseholdRead => !matches!(self, MeAnalyst | Administrator),
            NationalIds => matches!(self, AntennaAgent | AntennaSupervisor | AppealsOfficer),
            Aggregates | RulesRead => true,
            RulesPropose => matches!(self, Administrator),
            // The budget authority or a second administrator: never the proposer (the store checks).
            RulesApprove => matches!(self, Administrator | PaymentApprover),
            UsersManage => matches!(self, Administrator),
            AuditRead => matches!(self, Auditor),
            PayrollRead => matches!(self, PaymentOfficer | PaymentApprover | Auditor | MeAnalyst),
            PayrollPrepare => matches!(self, PaymentOfficer),
            PayrollApprove => matches!(self, PaymentApprover),
            ApplicationsIntake => matches!(self, AntennaAgent | AntennaSupervisor),
            Outbox => matches!(self, AntennaAgent | AntennaSupervisor | Administrator),
            CasesManage => matches!(self, AntennaAgent | AntennaSupervisor),
            // The gateway's service account is created by an administrator.
            DeliveryReport => matches!(self, Administrator),
            DesignsManage => matches!(self, MeAnalyst | Administrator),
            PilotConfigure => matches!(self, Administrator),
            CasesReassign => matches!(self, AntennaSupervisor),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `AB123456` → `AB****56`: enough for a person to recognise their own number on a screen.
pub fn mask_id(id: &str) -> String {
    let n = id.chars().count();
    if n <= 4 {
        return "*".repeat(n);
    }
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i >= n - 2 { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_policy_holds() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert!(Role::parse("root").unwrap_err().contains("antenna_agent"));
        assert!(!Role::MeAnalyst.can(Permission::HouseholdRead));
        assert!(
            !Role::Auditor.can(Permission::RulesApprove)
                && Role::Auditor.can(Permission::AuditRead)
        );
        assert!(!Role::PaymentOfficer.can(Permission::NationalIds));
        assert!(
            Role::ALL
                .iter()
                .filter(|r| r.can(Permission::UsersManage))
                .count()
                == 1
        );
        assert!(
            !Role::MeAnalyst.can(Permission::CasesManage)
                && Role::MeAnalyst.can(Permission::Aggregates),
            "designs, not case notes"
        );
        assert!(
            Role::MeAnalyst.can(Permission::DesignsManage)
                && !Role::AntennaAgent.can(Permission::DesignsManage)
        );
        assert!(
            Role::AntennaSupervisor.can(Permission::CasesReassign)
                && !Role::AntennaAgent.can(Permission::CasesReassign),
            "a worker cannot reassign"
        );
    }

    #[test]
    fn masks_keep_ends() {
        assert_eq!(mask_id("AB123456"), "AB****56");
        assert_eq!(mask_id("1234567890"), "12******90");
        assert_eq!(mask_id("abc"), "***");
    }
}
