//! Common Moroccan first and family names, in Latin and Arabic script, and the family names
//! composed from them.

use crate::rng::Rng;

pub(crate) type Name = (&'static str, &'static str);

pub(crate) const MALE: &[Name] = &[
    ("Mohamed", "محمد"),
    ("Ahmed", "أحمد"),
    ("Youssef", "يوسف"),
    ("Abdellah", "عبد الله"),
    ("Hassan", "حسن"),
    ("Hicham", "هشام"),
    ("Rachid", "رشيد"),
    ("Said", "سعيد"),
    ("Mustapha", "مصطفى"),
    ("Khalid", "خالد"),
    ("Abdelkader", "عبد القادر"),
    ("Omar", "عمر"),
    ("Ali", "علي"),
    ("Hamid", "حميد"),
    ("Brahim", "إبراهيم"),
    ("Driss", "إدريس"),
    ("Aziz", "عزيز"),
    ("Karim", "كريم"),
    ("Nabil", "نبيل"),
    ("Mehdi", "المهدي"),
    ("Amine", "أمين"),
    ("Ayoub", "أيوب"),
    ("Yassine", "ياسين"),
    ("Hamza", "حمزة"),
    ("Othmane", "عثمان"),
    ("Adam", "آدم"),
    ("Rayane", "ريان"),
    ("Ismail", "إسماعيل"),
    ("Abderrahim", "عبد الرحيم"),
    ("Abdelaziz", "عبد العزيز"),
    ("Jamal", "جمال"),
    ("Noureddine", "نور الدين"),
    ("Mounir", "منير"),
    ("Anas", "أنس"),
    ("Zakaria", "زكرياء"),
    ("Bilal", "بلال"),
    ("Soufiane", "سفيان"),
    ("Tarik", "طارق"),
    ("Larbi", "العربي"),
    ("Lahcen", "لحسن"),
    ("Mbarek", "مبارك"),
    ("Abdelhak", "عبد الحق"),
];

pub(crate) const FEMALE: &[Name] = &[
    ("Fatima", "فاطمة"),
    ("Khadija", "خديجة"),
    ("Aicha", "عائشة"),
    ("Malika", "مليكة"),
    ("Naima", "نعيمة"),
    ("Zahra", "زهرة"),
    ("Rachida", "رشيدة"),
    ("Saida", "سعيدة"),
    ("Amina", "أمينة"),
    ("Hafsa", "حفصة"),
    ("Meryem", "مريم"),
    ("Salma", "سلمى"),
    ("Sanaa", "سناء"),
    ("Nadia", "نادية"),
    ("Latifa", "لطيفة"),
    ("Hanane", "حنان"),
    ("Karima", "كريمة"),
    ("Samira", "سميرة"),
    ("Zineb", "زينب"),
    ("Houda", "هدى"),
    ("Imane", "إيمان"),
    ("Asmae", "أسماء"),
    ("Hajar", "هاجر"),
    ("Soukaina", "سكينة"),
    ("Oumaima", "أميمة"),
    ("Khaoula", "خولة"),
    ("Ghizlane", "غزلان"),
    ("Loubna", "لبنى"),
    ("Nora", "نورة"),
    ("Jamila", "جميلة"),
    ("Mina", "مينة"),
    ("Yamna", "يامنة"),
    ("Rkia", "رقية"),
    ("Habiba", "حبيبة"),
    ("Touria", "ثريا"),
    ("Laila", "ليلى"),
    ("Nisrine", "نسرين"),
    ("Ikram", "إكرام"),
    ("Wiam", "وئام"),
    ("Yasmine", "ياسمين"),
    ("Chaimae", "شيماء"),
    ("Kawtar", "كوثر"),
];

pub(crate) const FAMILY: &[Name] = &[
    ("Alaoui", "العلوي"),
    ("Idrissi", "الإدريسي"),
    ("Bennani", "بناني"),
    ("Tazi", "التازي"),
    ("Fassi", "الفاسي"),
    ("Berrada", "برادة"),
    ("Benjelloun", "بنجلون"),
    ("Chraibi", "الشرايبي"),
    ("El Amrani", "العمراني"),
    ("Benali", "بنعلي"),
    ("Tahiri", "الطاهري"),
    ("Ouazzani", "الوزاني"),
    ("Lahlou", "لحلو"),
    ("Sqalli", "الصقلي"),
    ("Kettani", "الكتاني"),
    ("Hajji", "الحجي"),
    ("Bouazza", "بوعزة"),
    ("Ait Ali", "آيت علي"),
    ("Benkirane", "بنكيران"),
    ("El Khatib", "الخطيب"),
    ("Ziani", "الزياني"),
    ("Mansouri", "المنصوري"),
    ("Saidi", "السعيدي"),
    ("Naciri", "الناصري"),
    ("Jabri", "الجابري"),
    ("Kabbaj", "القباج"),
    ("Mernissi", "المرنيسي"),
    ("Chaoui", "الشاوي"),
    ("Doukkali", "الدكالي"),
    ("Soussi", "السوسي"),
    ("Rifi", "الريفي"),
    ("Filali", "الفيلالي"),
    ("Sahraoui", "الصحراوي"),
    ("Haddad", "الحداد"),
    ("Najjar", "النجار"),
    ("Khayat", "الخياط"),
    ("Bakkali", "البقالي"),
    ("Zerouali", "الزروالي"),
    ("Boukhari", "البخاري"),
    ("Benmoussa", "بنموسى"),
    ("Benchekroun", "بنشقرون"),
    ("Cherkaoui", "الشرقاوي"),
    ("Gharbi", "الغربي"),
    ("Moussaoui", "الموساوي"),
    ("Belhaj", "بلحاج"),
    ("Hamdaoui", "الحمداوي"),
    ("Karimi", "الكريمي"),
    ("Azzouzi", "العزوزي"),
    ("Bouzidi", "البوزيدي"),
    ("Benabdallah", "بنعبد الله"),
    ("Boutaleb", "بوطالب"),
    ("Marzouki", "المرزوقي"),
    ("Amzil", "أمزيل"),
    ("Ait Brahim", "آيت إبراهيم"),
    ("Ouchen", "أوشن"),
    ("Boussaid", "بوسعيد"),
    ("El Ouafi", "الوافي"),
    ("Taibi", "الطيبي"),
    ("Hilali", "الهلالي"),
    ("Sebti", "السبتي"),
    ("Slaoui", "السلاوي"),
    ("Marrakchi", "المراكشي"),
];

/// A family name in Latin and Arabic script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Family {
    pub latin: String,
    pub arabic: String,
}

/// Patronymic prefixes: Benali / بنعلي, Ait Ali / آيت علي, Ould Ali / ولد علي.
const PATRONYMIC: &[(&str, &str, bool)] = &[
    ("Ben", "بن", false),
    ("Ait ", "آيت ", true),
    ("Ould ", "ولد ", true),
];

/// A family name as a national registry holds them: a quarter of persons carry one of the
/// common single names of [`FAMILY`], a quarter a patronymic made from a first name, half a
/// double name (Alaoui Idrissi). Some 4,000 names are in use, none held by 1 % of persons
/// (a single name that is also a patronymic, Benali, by about 0.6 %). With the 62 single
/// names alone, each as common as the commonest real one, every person had a dozen namesakes
/// born the same day, which real registries do not.
pub(crate) fn family(rng: &mut Rng) -> Family {
    match rng.below(4) {
        0 => {
            let (latin, arabic) = *rng.pick(FAMILY);
            Family {
                latin: latin.into(),
                arabic: arabic.into(),
            }
        }
        1 => {
            let (prefix, prefix_ar, spaced) = *rng.pick(PATRONYMIC);
            let (root, root_ar) = *rng.pick(MALE);
            let root = if spaced {
                root.to_string()
            } else {
                root.to_lowercase()
            };
            Family {
                latin: format!("{prefix}{root}"),
                arabic: format!("{prefix_ar}{root_ar}"),
            }
        }
        _ => {
            let first = rng.below(FAMILY.len() as u64) as usize;
            // Any other name of the list: the second never repeats the first.
            let second = (first + 1 + rng.below(FAMILY.len() as u64 - 1) as usize) % FAMILY.len();
            let ((a, a_ar), (b, b_ar)) = (FAMILY[first], FAMILY[second]);
            Family {
                latin: format!("{a} {b}"),
                arabic: format!("{a_ar} {b_ar}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_names_are_many_and_none_is_common() {
        let mut rng = Rng::new(1, 0, 7);
        let mut counts = std::collections::HashMap::<String, u32>::new();
        let n = 200_000;
        for _ in 0..n {
            let f = family(&mut rng);
            assert!(!f.latin.is_empty() && !f.arabic.is_empty());
            assert!(!f.latin.contains("  ") && f.latin.trim() == f.latin);
            *counts.entry(f.latin).or_default() += 1;
        }
        assert!(counts.len() > 3_000, "{} distinct names", counts.len());
        let commonest = *counts.values().max().unwrap();
        assert!(f64::from(commonest) / f64::from(n) < 0.01, "{commonest}");
        assert!(counts.contains_key("Benabdellah") && counts.contains_key("Ait Lahcen"));
    }

    #[test]
    fn a_double_name_joins_two_different_names() {
        let mut rng = Rng::new(2, 0, 7);
        for _ in 0..10_000 {
            let f = family(&mut rng);
            assert!(
                !FAMILY.iter().any(|(n, _)| f.latin == format!("{n} {n}")),
                "{}",
                f.latin
            );
        }
    }
}
