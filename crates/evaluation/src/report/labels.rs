//! Fixed labels of the report in French, Arabic and English. User text
//! (outcome labels, titles) is never translated: it is shown as given.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};

/// Language of the report's fixed labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    Ar,
    En,
}

impl Lang {
    /// BCP 47 code for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::Ar => "ar",
            Lang::En => "en",
        }
    }
    /// Text direction for `<html dir>`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            _ => "ltr",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fr" => Ok(Lang::Fr),
            "ar" => Ok(Lang::Ar),
            "en" => Ok(Lang::En),
            o => Err(EvalError::Invalid(format!(
                "unknown language '{o}' (fr, ar, en)"
            ))),
        }
    }
}

/// Every fixed label of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    ReportTitle,
    Design,
    RandomisationUnit,
    Arm,
    Share,
    Units,
    Clusters,
    Strata,
    Seed,
    Algorithm,
    DesignHash,
    HashVerified,
    HashMismatch,
    HashNotChecked,
    Balance,
    Variable,
    Mean,
    Se,
    Difference,
    NormDiff,
    PValue,
    JointF,
    Estimates,
    Outcome,
    Family,
    ControlMean,
    Itt,
    Late,
    Ci,
    FirstStageF,
    Observations,
    SeClustered,
    SeRobust,
    StrataFe,
    CoefPlot,
    EffectSd,
    RdPlot,
    RunningVariable,
    Cutoff,
    Bandwidth,
    Conventional,
    RobustBc,
    RdTauNote,
    BinnedMeans,
    LocalFit,
    EventStudy,
    EventTime,
    Effect,
    Overall,
    PointwiseCi,
    MultipleTesting,
    BhQ,
    SharpenedQ,
    Holm,
    GeneratedBy,
}

/// The label of `key` in `lang`.
pub fn text(lang: Lang, key: Key) -> &'static str {
    let (fr, ar, en) = triple(key);
    match lang {
        Lang::Fr => fr,
        Lang::Ar => ar,
        Lang::En => en,
    }
}

fn triple(key: Key) -> (&'static str, &'static str, &'static str) {
    use Key::*;
    match key {
        ReportTitle => ("Rapport d'évaluation", "تقرير التقييم", "Evaluation report"),
        Design => (
            "Protocole de randomisation",
            "تصميم القرعة",
            "Randomisation design",
        ),
        RandomisationUnit => (
            "Unité de randomisation",
            "وحدة القرعة",
            "Randomisation unit",
        ),
        Arm => ("Bras", "المجموعة", "Arm"),
        Share => ("Part visée", "النسبة المستهدفة", "Target share"),
        Units => ("Unités", "الوحدات", "Units"),
        Clusters => ("Grappes", "العناقيد", "Clusters"),
        Strata => ("Strates", "الطبقات", "Strata"),
        Seed => ("Graine", "البذرة", "Seed"),
        Algorithm => ("Algorithme", "الخوارزمية", "Algorithm"),
        DesignHash => ("Empreinte du protocole", "بصمة التصميم", "Design hash"),
        HashVerified => (
            "conforme à l'empreinte préenregistrée",
            "مطابقة للبصمة المسجلة مسبقًا",
            "matches the pre-registered hash",
        ),
        HashMismatch => (
            "NE correspond PAS à l'empreinte préenregistrée",
            "لا تطابق البصمة المسجلة مسبقًا",
            "DOES NOT match the pre-registered hash",
        ),
        HashNotChecked => (
            "non vérifiée (aucune empreinte préenregistrée fournie)",
            "لم يتم التحقق (لم تُقدَّم بصمة مسجلة مسبقًا)",
            "not checked (no pre-registered hash given)",
        ),
        Balance => (
            "Équilibre à la ligne de base",
            "التوازن عند خط الأساس",
            "Baseline balance",
        ),
        Variable => ("Variable", "المتغير", "Variable"),
        Mean => ("Moyenne", "المتوسط", "Mean"),
        Se => ("E.-T.", "الخطأ المعياري", "SE"),
        Difference => ("Différence", "الفرق", "Difference"),
        NormDiff => (
            "Différence normalisée",
            "الفرق المعياري",
            "Normalised difference",
        ),
        PValue => ("p-valeur", "القيمة الاحتمالية", "p-value"),
        JointF => (
            "Test F d'orthogonalité jointe",
            "اختبار F المشترك للتعامد",
            "Joint orthogonality F test",
        ),
        Estimates => ("Effets du programme", "آثار البرنامج", "Programme effects"),
        Outcome => ("Indicateur", "المؤشر", "Outcome"),
        Family => ("Famille", "العائلة", "Family"),
        ControlMean => ("Moyenne témoin", "متوسط المجموعة الضابطة", "Control mean"),
        Itt => ("ITT (MCO)", "أثر النية في العلاج (OLS)", "ITT (OLS)"),
        Late => ("LATE (DMC)", "الأثر المحلي LATE (2SLS)", "LATE (2SLS)"),
        Ci => ("IC", "فترة الثقة", "CI"),
        FirstStageF => ("F de 1re étape", "F المرحلة الأولى", "First-stage F"),
        Observations => ("Observations", "المشاهدات", "Observations"),
        SeClustered => (
            "Écarts-types robustes par grappe (CR1), grappe :",
            "أخطاء معيارية عنقودية (CR1)، العنقود:",
            "Cluster-robust standard errors (CR1), cluster:",
        ),
        SeRobust => (
            "Écarts-types robustes à l'hétéroscédasticité (HC1).",
            "أخطاء معيارية متينة لعدم تجانس التباين (HC1).",
            "Heteroskedasticity-robust standard errors (HC1).",
        ),
        StrataFe => (
            "Effets fixes de strate :",
            "آثار ثابتة للطبقات:",
            "Strata fixed effects:",
        ),
        CoefPlot => (
            "Effets estimés et intervalles de confiance",
            "الآثار المقدرة وفترات الثقة",
            "Estimated effects and confidence intervals",
        ),
        EffectSd => (
            "Effet (écarts-types du groupe témoin)",
            "الأثر (بالانحراف المعياري للمجموعة الضابطة)",
            "Effect (control-group standard deviations)",
        ),
        RdPlot => (
            "Régression sur discontinuité au seuil d'éligibilité",
            "انحدار الانقطاع عند عتبة الأهلية",
            "Regression discontinuity at the eligibility threshold",
        ),
        RunningVariable => (
            "Score (variable de classement)",
            "المؤشر (متغير التصنيف)",
            "Score (running variable)",
        ),
        Cutoff => ("Seuil", "العتبة", "Cutoff"),
        Bandwidth => ("Largeur de bande h", "عرض النطاق h", "Bandwidth h"),
        Conventional => ("Conventionnel", "تقليدي", "Conventional"),
        RobustBc => (
            "Robuste, biais corrigé",
            "متين مع تصحيح الانحياز",
            "Robust bias-corrected",
        ),
        RdTauNote => (
            "Estimation = limite à droite du seuil moins limite à gauche.",
            "التقدير = النهاية يمين العتبة ناقص النهاية يسارها.",
            "Estimate = limit right of the cutoff minus limit left of it.",
        ),
        BinnedMeans => ("Moyennes par classe", "متوسطات الفئات", "Binned means"),
        LocalFit => (
            "Ajustement linéaire local",
            "الملاءمة الخطية المحلية",
            "Local linear fit",
        ),
        EventStudy => (
            "Étude d'événement (Callaway–Sant'Anna)",
            "دراسة الحدث (كالاواي–سانت آنا)",
            "Event study (Callaway–Sant'Anna)",
        ),
        EventTime => (
            "Périodes depuis l'entrée dans le programme",
            "الفترات منذ الدخول في البرنامج",
            "Periods since phase-in",
        ),
        Effect => ("Effet", "الأثر", "Effect"),
        Overall => (
            "Moyenne des périodes post-entrée",
            "متوسط فترات ما بعد الدخول",
            "Average over post-phase-in periods",
        ),
        PointwiseCi => ("IC ponctuel", "فترة ثقة نقطية", "Pointwise CI"),
        MultipleTesting => (
            "Tests multiples : q-valeurs par famille d'indicateurs (ITT)",
            "الاختبارات المتعددة: قيم q حسب عائلة المؤشرات (ITT)",
            "Multiple testing: q-values by outcome family (ITT)",
        ),
        BhQ => ("q-valeur BH", "قيمة q (BH)", "BH q-value"),
        SharpenedQ => (
            "q-valeur affinée (Anderson)",
            "قيمة q المحسنة (أندرسون)",
            "Sharpened q-value (Anderson)",
        ),
        Holm => (
            "p-valeur de Holm",
            "القيمة الاحتمالية (هولم)",
            "Holm p-value",
        ),
        GeneratedBy => (
            "Produit par sanad-evaluation",
            "أُنتج بواسطة sanad-evaluation",
            "Produced by sanad-evaluation",
        ),
    }
}
