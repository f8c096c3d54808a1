use super::*;
use sanad_domain::Disability;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn idcs(s: &str) -> Idcs {
    Idcs::parse(s).unwrap()
}

#[test]
fn every_example_file_parses() {
    let ex = |name: &str| {
        std::fs::read(format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let fa =
        parse_family_allowance("family_allowance.csv", &ex("family_allowance.csv")[..]).unwrap();
    assert_eq!(fa.meta().as_of, d("2026-10-31"));
    assert_eq!(fa.meta().source, "CNSS-AF");
    assert_eq!(
        fa.find(&idcs("2345678912")).next().unwrap().row.scheme,
        Scheme::Cmr
    );
    let pay = parse_public_payroll("public_payroll.csv", &ex("public_payroll.csv")[..]).unwrap();
    let quoted = pay.find(&idcs("3456789126")).next().unwrap();
    assert_eq!(
        (quoted.line, quoted.row.employer.as_str()),
        (4, "Commune de Salé, service technique")
    );
    assert_eq!(
        parse_pensions("pensions.csv", &ex("pensions.csv")[..])
            .unwrap()
            .rows()
            .len(),
        2
    );
    let deaths = parse_deaths("deaths.csv", &ex("deaths.csv")[..]).unwrap();
    assert_eq!(
        deaths
            .find(&idcs("0000000109"))
            .next()
            .unwrap()
            .row
            .death_date,
        d("2026-03-14")
    );
    let school =
        parse_school_enrolment("school_enrolment.csv", &ex("school_enrolment.csv")[..]).unwrap();
    assert_eq!(school.find(&idcs("0000000117")).count(), 2);
    let cards =
        parse_disability_cards("disability_cards.csv", &ex("disability_cards.csv")[..]).unwrap();
    let open_ended = cards.find(&idcs("0000000208")).next().unwrap();
    assert_eq!(
        (open_ended.row.severity, open_ended.row.valid_to),
        (Disability::Moderate, None)
    );
    assert!(open_ended.row.valid_on(d("2040-01-01")));
    assert!(!open_ended.row.valid_on(d("2023-05-31")));
}

#[test]
fn every_bad_row_is_reported_with_line_and_field() {
    let text = "\u{feff}# list=disability_cards as_of=2026-10-01 source=CARTE\n\
        valid_to,idcs,severity,valid_from\n\
        ,0000000125,severe,2024-01-15\n\
        2029-01-01,0000000126,severe,2024-01-15\n\
        2023-01-01,0000000125,none,2024-01-15\n\
        ,0000000125,mild\n\
        ,0000000125,mild,2027-01-01\n";
    let errs = parse_disability_cards("cards.csv", text.as_bytes()).unwrap_err();
    let got: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
    // A row reports all of its problems, not only the first.
    assert_eq!(
        got,
        [
            (4, "idcs"),
            (5, "severity"),
            (5, "valid_to"),
            (6, "(row)"),
            (7, "valid_from")
        ]
    );
    assert_eq!(
        errs[0].to_string(),
        "cards.csv:4: idcs: '0000000126' is not an IDCS (10 digits with a valid check digit)"
    );
    assert_eq!(errs[2].reason, "2023-01-01 is before valid_from 2024-01-15");
}

#[test]
fn headers_are_checked() {
    let cases = [
        ("idcs,death_date\n", 1, "(header)"),
        (
            "# list=pensions as_of=2026-10-01 source=X\nidcs,death_date\n",
            1,
            "list",
        ),
        (
            "# list=deaths as_of=2026-13-01 source=X\nidcs,death_date\n",
            1,
            "as_of",
        ),
        (
            "# list=deaths as_of=2026-10-01\nidcs,death_date\n",
            1,
            "source",
        ),
        (
            "# list=deaths as_of=2026-10-01 source=X colour=red\nidcs,death_date\n",
            1,
            "colour",
        ),
        (
            "# list=deaths as_of=2026-10-01 source=X\nidcs,date\n",
            2,
            "(columns)",
        ),
        (
            "# list=deaths as_of=2026-10-01 source=X\nidcs\n",
            2,
            "(columns)",
        ),
        (
            "# list=deaths as_of=2026-10-01 source=X\nidcs,death_date,idcs\n",
            2,
            "(columns)",
        ),
    ];
    for (text, line, field) in cases {
        let errs = parse_deaths("d.csv", text.as_bytes()).unwrap_err();
        assert_eq!(
            (errs[0].line, errs[0].field.as_str()),
            (line, field),
            "{text}"
        );
    }
}

#[test]
fn duplicates_and_dates_against_the_list_date() {
    let text = "# list=deaths as_of=2026-10-01 source=RNP\nidcs,death_date\n\
        0000000018,2026-01-01\n0000000026,2026-10-02\n0000000018,2026-02-01\n";
    let errs = parse_deaths("d.csv", text.as_bytes()).unwrap_err();
    assert_eq!(errs.len(), 2);
    assert_eq!((errs[0].line, errs[0].field.as_str()), (4, "death_date"));
    assert!(
        errs[1].reason.contains("already appears on line 3"),
        "{}",
        errs[1].reason
    );
    let school = "# list=school_enrolment as_of=2026-10-01 source=MASSAR\nidcs,school_year,level\n\
        0000000018,2026-2027,primary\n0000000018,2026-2027,college\n0000000018,2028-2029,college\n0000000018,2026-2028,college\n";
    let errs = parse_school_enrolment("s.csv", school.as_bytes()).unwrap_err();
    let got: Vec<u64> = errs.iter().map(|e| e.line).collect();
    assert_eq!(got, [4, 5, 6]);
}

#[test]
fn school_years() {
    assert_eq!(SchoolYear::containing(d("2026-09-01"), 9), SchoolYear(2026));
    assert_eq!(SchoolYear::containing(d("2026-08-31"), 9), SchoolYear(2025));
    assert_eq!(
        SchoolYear::parse("2025-2026").unwrap().to_string(),
        "2025-2026"
    );
}

// ---- the pilot's administrative-outcome lists (issue 7) ----

#[test]
fn the_outcome_list_examples_parse_and_are_recognised_by_their_header() {
    let ex = |name: &str| {
        std::fs::read(format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let visits =
        parse_list::<HealthVisitRow>("health_visits.csv", &ex("health_visits.csv")[..]).unwrap();
    assert_eq!(visits.meta().as_of, d("2027-06-30"));
    assert_eq!(visits.find(&idcs("0000000141")).count(), 2);
    let first = visits.find(&idcs("0000000125")).next().unwrap();
    assert_eq!(
        (first.line, first.row.visit_type, first.row.centre.as_str()),
        (4, VisitType::Prenatal, "ESSP-TNG-03")
    );
    let cnss =
        parse_list::<AffiliationRow>("cnss_affiliation.csv", &ex("cnss_affiliation.csv")[..])
            .unwrap();
    let open: Vec<bool> = cnss
        .find(&idcs("0000000117"))
        .map(|e| e.row.active_on(d("2027-06-30")))
        .collect();
    assert_eq!(
        open,
        [false, true],
        "the first period ended, the second is open"
    );
    for name in ["health_visits.csv", "cnss_affiliation.csv"] {
        let (meta, rows) = parse_any(name, &ex(name)[..]).unwrap();
        assert_eq!(format!("{}.csv", meta.kind.code()), name);
        assert!(!rows.is_empty());
    }
}

#[test]
fn outcome_list_rows_are_refused_with_line_and_field() {
    let visits = "# list=health_visits as_of=2027-06-30 source=MS-SIS\n\
        idcs,visit_date,centre,visit_type\n\
        0000000117,2027-01-20,ESSP-03,consultation\n\
        0000000117,2027-07-01,ESSP-03,consultation\n\
        0000000117,2027-01-20,ESSP 03,dentist\n\
        0000000117,2027-01-20,ESSP-03,consultation\n";
    let errs = parse_any("v.csv", visits.as_bytes()).unwrap_err();
    let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        got[0],
        "v.csv:4: visit_date: 2027-07-01 is after the list's date 2027-06-30"
    );
    assert!(got[1].starts_with("v.csv:5: centre: 'ESSP 03'"), "{got:?}");
    assert!(
        got[2].starts_with("v.csv:5: visit_type: 'dentist' is not one of"),
        "{got:?}"
    );
    assert!(
        got[3].starts_with("v.csv:6: idcs: visit of 0000000117 on 2027-01-20")
            && got[3].ends_with("already appears on line 3"),
        "the same visit twice would count twice: {got:?}"
    );
    let cnss = "# list=cnss_affiliation as_of=2027-06-30 source=CNSS\n\
        idcs,affiliated_from,affiliated_to,employer_type\n\
        0000000117,2027-02-01,,company\n\
        0000000117,2027-03-01,2027-02-01,company\n\
        0000000118,2027-03-01,,company\n\
        0000000125,2027-03-01,,state\n\
        0000000125,2027-03-01,2027-08-01,company\n";
    let errs = parse_any("c.csv", cnss.as_bytes()).unwrap_err();
    let got: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (4, "affiliated_to"),
            (5, "idcs"),
            (6, "employer_type"),
            (7, "affiliated_to")
        ]
    );
    assert_eq!(
        errs[0].reason,
        "2027-02-01 is before affiliated_from 2027-03-01"
    );
}
